"""Real `pio run` in copies of the project: uno, nano and mega each give a .hex whose INFO reply
matches the env's selection; a second run changes nothing; errors stop the build cleanly."""
from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.codegen.selection import Selection
from generator.codegen.sketch import generate
from testsupport import helpers

ENV_DEFAULTS = {"custom_firmware_baud_rate": "38400"}   # [env]: inherited by uno, overridden by the others


@dataclass(frozen=True)
class EnvCase:
    """One env: its platformio.ini options and the same selection written for generate()."""

    options: dict[str, str]
    selection: Selection
    board: str
    capabilities: list[str]


ENVS: dict[str, EnvCase] = {
    "uno": EnvCase(
        helpers.avr_env("uno", commands="Gpio_Write, ping", devices="DHT22_sensor"),
        Selection(board="uno", transport="serial_standard", commands=("gpio_write",),
                  devices=("dht22_sensor",), settings={"BAUD_RATE": "38400"}),
        "arduino_uno", ["DHT_READ", "GPIO_WRITE"]),
    "nano": EnvCase(
        helpers.avr_env("nanoatmega328", commands="analog_read", devices="relay_module, led_dimmer",
                        relay_active_low="true", baud_rate="57600"),
        Selection(board="nanoatmega328", transport="serial_standard", commands=("analog_read",),
                  devices=("relay_module", "led_dimmer"),
                  settings={"BAUD_RATE": "57600", "RELAY_ACTIVE_LOW": "true"}),
        "arduino_nano", ["ANALOG_READ", "GPIO_WRITE", "PWM_WRITE", "RELAY_SET"]),
    "mega": EnvCase(
        helpers.avr_env("megaatmega2560", commands="gpio_write, gpio_read, analog_read, pwm_write, relay_set, dht_read",
                        baud_rate="9600"),
        Selection(board="megaatmega2560", transport="serial_standard",
                  commands=("gpio_write", "gpio_read", "analog_read", "pwm_write", "relay_set", "dht_read"),
                  settings={"BAUD_RATE": "9600"}),
        "arduino_mega2560", ["ANALOG_READ", "DHT_READ", "GPIO_READ", "GPIO_WRITE", "PWM_WRITE", "RELAY_SET"]),
}


@dataclass
class Built:
    """A project copy after one `pio run` of every env in ENVS."""

    project: Path
    result: helpers.PioResult


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """One copy with uno, nano and mega, built once for every test that only reads it."""
    project = helpers.copy_project(tmp_path_factory.mktemp("built") / "project")
    helpers.set_envs(project, {name: case.options for name, case in ENVS.items()}, ENV_DEFAULTS)
    result = helpers.run_pio(project, "run", *(arg for name in ENVS for arg in ("-e", name)))
    assert result.returncode == 0, result.output[-4000:]
    return Built(project, result)


def firmware_line(output: str, env: str) -> str:
    """The pre-script's report line about src/<env>/<env>.ino (exactly one per env and run)."""
    lines = [line for line in output.splitlines()
             if line.startswith("firmware: ") and f"src/{env}/{env}.ino" in line]
    assert len(lines) == 1, f"expected one 'firmware: src/{env}/{env}.ino ...' line in:\n{output[-3000:]}"
    return lines[0]


@pytest.mark.parametrize("env", ENVS)
def test_build_gives_a_hex_and_reports_the_sketch(built: Built, env: str) -> None:
    """Each env has its firmware.hex; the pre-script said which sketch it wrote and what it holds."""
    case = ENVS[env]
    expected = generate(case.selection, env)
    assert (helpers.build_dir(built.project, env) / "firmware.hex").stat().st_size > 0
    line = firmware_line(built.result.output, env)
    assert "written" in line and expected.hash in line and ", ".join(case.capabilities) in line


@pytest.mark.parametrize("env", ENVS)
def test_info_in_the_firmware_matches_the_selection(built: Built, env: str) -> None:
    """The INFO reply compiled into the .hex and the .bin names this env's board, hash and commands."""
    case = ENVS[env]
    expected = generate(case.selection, env)
    folder = helpers.build_dir(built.project, env)
    from_hex = helpers.find_info_reply(helpers.read_intel_hex(folder / "firmware.hex"))
    from_bin = helpers.find_info_reply((folder / "firmware.bin").read_bytes())
    assert from_hex == from_bin
    assert from_hex["capabilities"] == case.capabilities
    assert from_hex["board"] == case.board
    assert from_hex["transport"] == "serial_standard"
    assert from_hex["hash"] == expected.hash


@pytest.mark.parametrize("env", ENVS)
def test_sketch_is_what_the_generator_makes(built: Built, env: str) -> None:
    """platformio.ini's options (with [env] defaults, any case) give the generator's sketch."""
    case = ENVS[env]
    assert helpers.sketch_of(built.project, env).read_text(encoding="utf-8") == generate(case.selection, env).content


def test_envs_never_see_each_others_sketch(built: Built) -> None:
    """src/<env>/ holds only <env>.ino (the temporary .ino.cpp is gone) and each env compiled
    only its own sketch."""
    assert helpers.files_under(built.project / "src") == sorted(f"{env}/{env}.ino" for env in ENVS)
    for env in ENVS:
        assert helpers.files_under(helpers.build_dir(built.project, env) / "src") == [f"{env}.ino.cpp.o"]


def test_second_run_neither_rewrites_nor_recompiles(built: Built) -> None:
    """A second `pio run` keeps every sketch (bytes and mtime_ns) and compiles nothing."""
    sketches = {env: helpers.FileState.of(helpers.sketch_of(built.project, env)) for env in ENVS}
    hexes = {env: helpers.FileState.of(helpers.build_dir(built.project, env) / "firmware.hex") for env in ENVS}
    again = helpers.run_pio(built.project, "run", *(arg for name in ENVS for arg in ("-e", name)))
    assert again.returncode == 0, again.output[-4000:]
    assert again.compiled() == []
    for env in ENVS:
        assert helpers.FileState.of(helpers.sketch_of(built.project, env)) == sketches[env]
        assert helpers.FileState.of(helpers.build_dir(built.project, env) / "firmware.hex") == hexes[env]
        assert "up to date" in firmware_line(again.output, env)
        assert f"`.pio/build/{env}/firmware.elf' is up to date." in again.output


@pytest.mark.parametrize(("edited", "regenerates"), [
    ("generator/flash/flow.py", False), ("generator/host/client.py", False), ("generator/sim/board.py", False),
    ("generator/codegen/render.py", True), ("templates/pins.cpp.j2", True),
])
def test_the_incremental_key_covers_exactly_what_generation_reads(built: Built, edited: str,
                                                                  regenerates: bool) -> None:
    """Editing a flashing, host or simulator module keeps a no-op `pio run` on the fast path (the
    stamp is not even rewritten); editing the code generator or a template takes the slow path,
    which finds the same sketch."""
    env = next(iter(ENVS))
    stamp = helpers.build_dir(built.project, env) / "firmware-generator.json"
    before = helpers.FileState.of(stamp)
    path = built.project / edited
    original = path.read_bytes()
    path.write_bytes(original + (b"\n# edited\n" if edited.endswith(".py") else b"{# edited #}\n"))
    try:
        again = helpers.run_pio(built.project, "run", "-e", env)
    finally:
        path.write_bytes(original)
    assert again.returncode == 0, again.output[-4000:]
    assert "up to date" in firmware_line(again.output, env)
    assert (helpers.FileState.of(stamp) != before) == regenerates


def lint(project: Path) -> dict[str, list[str]]:
    """`pio project config --lint` findings (PlatformIO prints them as a Python literal)."""
    result = helpers.run_pio(project, "project", "config", "--lint", "--json-output")
    assert result.returncode == 0, result.output
    return ast.literal_eval(result.output.strip().splitlines()[-1])


def test_lint_is_clean_on_the_real_platformio_ini(tmp_path: Path) -> None:
    """No error or warning; the same check does flag an unknown option (so it can fail)."""
    project = helpers.copy_project(tmp_path / "project")
    assert lint(project) == {"errors": [], "warnings": []}
    with (project / "platformio.ini").open("a", encoding="utf-8") as ini:
        ini.write("\n[env:extra]\nboard = uno\nfirmware_commands = gpio_read\n")
    assert any("firmware_commands" in warning for warning in lint(project)["warnings"])


def test_editing_a_definition_or_the_selection_regenerates(tmp_path: Path) -> None:
    """A changed definition, then a changed selection, each rewrite the sketch and recompile it."""
    project = helpers.copy_project(tmp_path / "project")
    helpers.set_envs(project, {"uno": helpers.avr_env("uno", commands="gpio_write")})
    first = helpers.run_pio(project, "run", "-e", "uno")
    assert first.returncode == 0, first.output[-4000:]
    sketch = helpers.sketch_of(project, "uno")
    before = helpers.FileState.of(sketch)

    definition = project / "definitions" / "commands" / "src" / "gpio_write_avr.cpp"  # the uno's
    definition.write_text("// edited definition marker\n" + definition.read_text(encoding="utf-8"), encoding="utf-8")
    edited = helpers.run_pio(project, "run", "-e", "uno")
    assert edited.returncode == 0, edited.output[-4000:]
    assert "written" in firmware_line(edited.output, "uno")
    assert "// edited definition marker" in sketch.read_text(encoding="utf-8")
    assert helpers.FileState.of(sketch) != before
    assert "Compiling .pio/build/uno/src/uno.ino.cpp.o" in edited.compiled()

    helpers.set_envs(project, {"uno": helpers.avr_env("uno", commands="gpio_write, analog_read")})
    reselected = helpers.run_pio(project, "run", "-e", "uno")
    assert reselected.returncode == 0, reselected.output[-4000:]
    assert "Compiling .pio/build/uno/src/uno.ino.cpp.o" in reselected.compiled()
    info = helpers.find_info_reply(helpers.read_intel_hex(helpers.build_dir(project, "uno") / "firmware.hex"))
    assert info["capabilities"] == ["ANALOG_READ", "GPIO_WRITE"]


# ---- errors through pio ---------------------------------------------------------------------------

GOOD_UNO = helpers.avr_env("uno", commands="gpio_write")
BROKEN_JSON = '{\n  "id": "dht11_sensor",\n  "name": "x" "oops"\n}\n'


@dataclass(frozen=True)
class ErrorCase:
    """A broken env `bad` (custom_firmware_* options), an optional broken file, what must be said."""

    firmware: dict[str, str]
    messages: tuple[str, ...]
    broken_file: tuple[str, str] | None = None   # (path in the copy, content)


ERRORS = {
    "unknown_command": ErrorCase(
        {"commands": "gpio_write, dht_raed"},
        ("error: unknown command 'dht_raed' (custom_firmware_commands in [env:bad])",
         "did you mean 'dht_read'?")),
    "malformed_json": ErrorCase(
        {"devices": "dht11_sensor"},
        ("error: ", "definitions/devices/dht11_sensor.json:3:15: invalid JSON"),
        ("definitions/devices/dht11_sensor.json", BROKEN_JSON)),
    "deep_json_not_selected": ErrorCase(   # issue 18 case 6: was "internal error: RecursionError"
        {"commands": "gpio_write"},
        ("error: definitions/commands/relay_set.json: objects and arrays nested more than 32 levels deep",),
        ("definitions/commands/relay_set.json", '{"id": "relay_set", "x": ' + "[" * 10_000 + "]" * 10_000 + "}")),
    "board_of_other_hardware": ErrorCase(   # was "missing_setting": a D1 mini's sketch on an Uno (issue 12)
        {"board": "wemos_d1_mini", "transport": "wifi_tcp", "wifi_password": "pw"},
        ("error: custom_firmware_board in [env:bad] selects 'wemos_d1_mini' (esp8266, architecture esp8266), "
         "which does not fit the env's board 'uno' (MCU atmega328p, platform avr-debian)",)),
    "wifi_tcp_on_uno": ErrorCase(
        {"transport": "wifi_tcp", "wifi_ssid": "net", "wifi_password": "pw"},
        ("error: transport 'wifi_tcp' has no code for board 'arduino_uno' (architecture avr)",)),
}


@pytest.fixture(scope="module")
def error_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy whose good env `uno` is built: the other env's sketch errors must not touch."""
    project = helpers.copy_project(tmp_path_factory.mktemp("errors") / "project")
    helpers.set_envs(project, {"uno": GOOD_UNO})
    result = helpers.run_pio(project, "run", "-e", "uno")
    assert result.returncode == 0, result.output[-4000:]
    return project


@pytest.fixture(params=list(ERRORS))
def broken(request: pytest.FixtureRequest, error_project: Path) -> Iterator[tuple[Path, ErrorCase]]:
    """The error project with env `bad` holding one error case; broken files restored after."""
    case = ERRORS[request.param]
    helpers.set_envs(error_project, {"uno": GOOD_UNO, "bad": helpers.avr_env("uno", **case.firmware)})
    saved: tuple[Path, bytes] | None = None
    if case.broken_file:
        path = error_project / case.broken_file[0]
        saved = (path, path.read_bytes())
        path.write_text(case.broken_file[1], encoding="utf-8")
    try:
        yield error_project, case
    finally:
        if saved:
            saved[0].write_bytes(saved[1])


def assert_stopped_cleanly(project: Path, result: helpers.PioResult, case: ErrorCase) -> None:
    """Non-zero exit, the message, no traceback, nothing compiled, no sketch or temp file for `bad`."""
    assert result.returncode != 0
    for message in case.messages:
        assert message in result.output, result.output[-3000:]
    assert "Traceback" not in result.output
    assert not any("/bad/" in line for line in result.compiled())
    assert helpers.files_under(project / "src" / "bad") == []
    assert not [name for name in helpers.files_under(project / "src") if name.endswith(".tmp")]
    assert not (helpers.build_dir(project, "bad") / "firmware.elf").exists()


def test_error_stops_the_build_and_leaves_no_sketch(broken: tuple[Path, ErrorCase]) -> None:
    """Each error case stops `pio run` with its message and leaves uno's sketch alone."""
    project, case = broken
    uno_sketch = helpers.FileState.of(helpers.sketch_of(project, "uno"))
    result = helpers.run_pio(project, "run", "-e", "bad")
    assert_stopped_cleanly(project, result, case)
    assert helpers.FileState.of(helpers.sketch_of(project, "uno")) == uno_sketch


def test_failing_env_does_not_touch_another_envs_sketch(error_project: Path) -> None:
    """`pio run` of a good and a bad env: the good one stays up to date, the bad one fails."""
    case = ERRORS["unknown_command"]
    helpers.set_envs(error_project, {"uno": GOOD_UNO, "bad": helpers.avr_env("uno", **case.firmware)})
    uno_sketch = helpers.FileState.of(helpers.sketch_of(error_project, "uno"))
    result = helpers.run_pio(error_project, "run", "-e", "uno", "-e", "bad")
    assert_stopped_cleanly(error_project, result, case)
    assert "up to date" in firmware_line(result.output, "uno")
    assert helpers.FileState.of(helpers.sketch_of(error_project, "uno")) == uno_sketch


def test_failing_selection_keeps_the_envs_previous_sketch(error_project: Path) -> None:
    """An env whose selection breaks keeps its last good sketch, byte for byte."""
    helpers.set_envs(error_project, {"uno": helpers.avr_env("uno", commands="gpio_write, dht_raed")})
    uno_sketch = helpers.FileState.of(helpers.sketch_of(error_project, "uno"))
    result = helpers.run_pio(error_project, "run", "-e", "uno")
    assert result.returncode != 0
    assert "unknown command 'dht_raed' (custom_firmware_commands in [env:uno])" in result.output
    assert "Traceback" not in result.output and result.compiled() == []
    assert helpers.FileState.of(helpers.sketch_of(error_project, "uno")) == uno_sketch
    assert helpers.files_under(error_project / "src" / "uno") == ["uno.ino"]


def test_ide_metadata_refresh_survives_a_broken_selection(error_project: Path) -> None:
    """VS Code's idedata (`pio project metadata`) still answers for a broken env, writing nothing."""
    helpers.set_envs(error_project, {"uno": GOOD_UNO, "bad": helpers.avr_env("uno", commands="dht_raed")})
    result = helpers.run_pio(error_project, "project", "metadata", "-e", "bad", "--json-output")
    assert result.returncode == 0, result.output[-3000:]
    assert "Traceback" not in result.output
    metadata = json.loads(result.output[result.output.index("{"):])
    assert str(error_project / "src" / "bad") in metadata["bad"]["includes"]["build"]
    assert helpers.files_under(error_project / "src" / "bad") == []


def test_unwritable_sketch_folder_is_a_clear_error(tmp_path: Path) -> None:
    """When src/<env> cannot hold the sketch (here it is a file), the error names the path."""
    from generator.errors import FirmwareError
    from generator.files import write_if_changed

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "uno").write_text("not a folder")
    with pytest.raises(FirmwareError, match=r"src/uno/uno\.ino: cannot write: (File exists|Not a directory)"):
        write_if_changed(tmp_path / "src" / "uno" / "uno.ino", "x")


@pytest.mark.parametrize("env", ENVS)
def test_generate_env_writes_the_same_bytes(built: Built, env: str, tmp_path: Path) -> None:
    """`python -m generator generate --env NAME` (platformio.ini read without PlatformIO) writes
    byte for byte the sketch `pio run`'s pre: script wrote."""
    result = helpers.run_generator("generate", "--env", env, "--project-dir", str(built.project),
                                   "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / f"{env}.ino").read_bytes() == helpers.sketch_of(built.project, env).read_bytes()
