"""Issue 12 through the build: the content key never builds a stale sketch, odd files among the
inputs never hang or break a build, user errors end in one message, builds of one env wait for
each other, and the shipped platformio.ini monitors each env at its own baud rate."""
from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.codegen.selection import Selection
from generator.codegen.sketch import generate
from generator.errors import FirmwareError
from generator.paths import TEMPLATES
from generator.pioenv import envsketch
from generator.pioenv.options import EnvOptions, Hardware, option_sections
from generator.values import new_key
from testsupport import helpers

OPTIONS = EnvOptions("uno", {"custom_firmware_transport": "serial_standard", "custom_firmware_commands": "gpio_write"})
UNO = Hardware("uno", "atmega328p", "avr-debian")
EMACS_LOCK = ".#gpio_write.json"   # Emacs' lock file: a link to user@host.pid:boot, never a file


def keep_size_and_mtime(path: Path, old: str, new: str) -> None:
    """Edit `path` as `cp -p` or `rsync -t` may: same size, modification time kept."""
    assert len(old) == len(new)
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


@pytest.fixture
def inputs(definitions_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The content key computed over a private copy of definitions/ (and the real templates)."""
    monkeypatch.setattr(envsketch, "INPUTS", (definitions_copy, TEMPLATES))
    return definitions_copy


# ---- the content key ---------------------------------------------------------------------------

def test_key_catches_a_same_size_same_mtime_edit(inputs: Path) -> None:
    """Case 3: the old (path, size, mtime) key missed this edit and compiled the old sketch."""
    before = envsketch.inputs_key(OPTIONS, UNO)
    keep_size_and_mtime(inputs / "commands" / "src" / "gpio_write_avr.cpp", "(args[0], args[1])", "(args[1], args[0])")
    assert envsketch.inputs_key(OPTIONS, UNO) != before


def test_key_catches_an_edit_behind_a_symlinked_folder(inputs: Path, tmp_path: Path) -> None:
    """Case 3: definitions/commands as a link to another folder; an edit there is seen."""
    elsewhere = tmp_path / "shared-commands"
    (inputs / "commands").rename(elsewhere)
    (inputs / "commands").symlink_to(elsewhere, target_is_directory=True)
    before = envsketch.inputs_key(OPTIONS, UNO)
    keep_size_and_mtime(elsewhere / "src" / "gpio_write_avr.cpp", "(args[0], args[1])", "(args[1], args[0])")
    assert envsketch.inputs_key(OPTIONS, UNO) != before


def test_key_covers_the_hardware_and_inherited_options(inputs: Path) -> None:
    """The env's MCU and what it inherits change what generation says: they are in the key."""
    key = envsketch.inputs_key(OPTIONS, UNO)
    assert envsketch.inputs_key(OPTIONS, Hardware("uno", "atmega2560", "avr-debian")) != key
    inherited = EnvOptions(OPTIONS.name, OPTIONS.values, {"custom_firmware_commands": "env"})
    assert envsketch.inputs_key(inherited, UNO) != key


def test_dangling_link_is_skipped(inputs: Path) -> None:
    """Case 4: an editor's dangling lock link neither changes the key nor breaks generation or check."""
    before = envsketch.inputs_key(OPTIONS, UNO)
    (inputs / "commands" / EMACS_LOCK).symlink_to("user@host.12345:1700000000")
    assert envsketch.inputs_key(OPTIONS, UNO) == before
    sketch = generate(Selection(board="uno", transport="serial_standard", commands=("gpio_write",)), "u", inputs)
    assert sketch.capabilities == ["GPIO_WRITE"]
    result = helpers.run_generator("check", "--definitions", str(inputs))
    assert result.returncode == 0, result.stdout + result.stderr


class Timeout(Exception):
    pass


@pytest.fixture
def no_hang() -> Iterator[None]:
    """Fail instead of hanging forever on a FIFO."""
    def expire(*_: object) -> None:
        raise Timeout("hung on the FIFO")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("where", ["commands/pipe.json", "commands/src/pipe.cpp"])
def test_fifo_is_refused_unopened(inputs: Path, where: str, no_hang: None) -> None:
    """Case 5: a FIFO among the inputs is refused with its path, without blocking on it."""
    fifo = inputs / where
    os.mkfifo(fifo)
    with pytest.raises(FirmwareError, match=rf"{fifo}: not a regular file \(a FIFO, socket or device\)"):
        envsketch.inputs_key(OPTIONS, UNO)


def test_fifo_named_json_stops_check_and_generate(definitions_copy: Path, tmp_path: Path) -> None:
    """Case 5: `check` and `generate` name the FIFO and exit 1 at once (they hung forever)."""
    os.mkfifo(definitions_copy / "commands" / "pipe.json")
    for args in (["check"], ["generate", "--board", "uno", "--transport", "serial_standard",
                             "-o", str(tmp_path / "out")]):
        result = helpers.run_generator(*args, "--definitions", str(definitions_copy))
        output = result.stdout + result.stderr
        assert result.returncode == 1, output
        assert "commands/pipe.json: not a regular file (a FIFO, socket or device)" in output
        assert "Traceback" not in output
    assert helpers.files_under(tmp_path / "out") == []


def test_fifo_referenced_by_file_is_refused(definitions_copy: Path, no_hang: None) -> None:
    """An @file: reference to a FIFO is refused too, naming the definition and the reference."""
    source = definitions_copy / "commands" / "src" / "dht_read.cpp"
    source.unlink()
    os.mkfifo(source)
    with pytest.raises(FirmwareError, match=r"@file:commands/src/dht_read.cpp: not a regular file"):
        generate(Selection(board="uno", transport="serial_standard", commands=("dht_read",)), "d", definitions_copy)


# ---- the shipped d1_mini env, read by PlatformIO's own config reader --------------------------

def shipped_env(name: str, folder: Path) -> EnvOptions:
    """An env of the shipped platformio.ini (hardware envs enabled, in `folder`), as the pre:
    script reads it."""
    from platformio.project.config import ProjectConfig

    ini = helpers.with_hardware_envs(folder)
    with contextlib.chdir(folder):  # PlatformIO reads extra_configs relative to the current folder
        config = ProjectConfig(str(ini))
    return EnvOptions(name, config.items(env=name, as_dict=True),
                      option_sections(config.walk_options(f"env:{name}")), ini)


@pytest.mark.parametrize(("missing", "option"), [("PASSWORD", "password"), ("KEY", "key")])
def test_d1_mini_without_a_secret_variable_stops(missing: str, option: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Case 9: FIRMWARE_WIFI_PASSWORD or FIRMWARE_WIFI_KEY unset is an error naming the option and
    the variable."""
    monkeypatch.setenv("FIRMWARE_WIFI_PASSWORD", "pw")
    monkeypatch.setenv("FIRMWARE_WIFI_KEY", new_key())
    monkeypatch.delenv(f"FIRMWARE_WIFI_{missing}")
    with pytest.raises(FirmwareError) as err:
        envsketch.generate_env(tmp_path / "src", tmp_path / "build", shipped_env("d1_mini", tmp_path / "ini"),
                               Hardware("d1_mini", "esp8266", "espressif8266"))
    assert (f"WIFI_{missing} is empty (custom_firmware_wifi_{option} in [env:d1_mini]): it reads the "
            f"environment variable FIRMWARE_WIFI_{missing}") in str(err.value)
    assert helpers.files_under(tmp_path / "src") == []


def test_d1_mini_with_its_password_has_no_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Case 9: the baud rate the d1_mini inherits from [env] is another env's default: no warning."""
    monkeypatch.setenv("FIRMWARE_WIFI_PASSWORD", "s3cret-{{ pw }}")
    monkeypatch.setenv("FIRMWARE_WIFI_KEY", new_key())
    result = envsketch.generate_env(tmp_path / "src", tmp_path / "build", shipped_env("d1_mini", tmp_path / "ini"),
                                    Hardware("d1_mini", "esp8266", "espressif8266"))
    assert result.warnings == []
    assert result.identity.board == "wemos_d1_mini"


def test_monitor_speed_follows_each_envs_baud_rate(tmp_path: Path) -> None:
    """Case 8: [env]'s monitor_speed is ${this.custom_firmware_baud_rate}: an env's own rate wins."""
    from platformio.project.config import ProjectConfig

    project = helpers.copy_project(tmp_path / "project")
    helpers.set_envs(project, {"own": helpers.avr_env("uno", baud_rate="9600"), "shared": helpers.avr_env("uno")})
    config = ProjectConfig(str(project / "platformio.ini"))
    assert str(config.get("env:own", "monitor_speed")) == "9600"
    assert str(config.get("env:shared", "monitor_speed")) == "115200"


# ---- real `pio run`s ---------------------------------------------------------------------------

GOOD_UNO = helpers.avr_env("uno", commands="gpio_write")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built copy whose definitions/ is a link to a folder beside it (as shared set-ups do)."""
    base = tmp_path_factory.mktemp("incremental")
    project = helpers.copy_project(base / "project")
    (project / "definitions").rename(base / "shared-definitions")
    (project / "definitions").symlink_to(base / "shared-definitions", target_is_directory=True)
    helpers.set_envs(project, {"uno": GOOD_UNO})
    result = helpers.run_pio(project, "run", "-e", "uno")
    assert result.returncode == 0, result.output[-4000:]
    return project


def firmware_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("firmware: src/uno/uno.ino")]
    assert len(lines) == 1, output[-3000:]
    return lines[0]


def test_same_size_same_mtime_edit_behind_a_link_is_built(project: Path) -> None:
    """Case 3 through pio: the edit is generated and compiled, never the old sketch."""
    keep_size_and_mtime(project / "definitions" / "commands" / "gpio_write.json",
                        '"reply": ["pin", "value"]', '"reply": ["pin", "level"]')
    result = helpers.run_pio(project, "run", "-e", "uno")
    assert result.returncode == 0, result.output[-4000:]
    assert "written" in firmware_line(result.output)
    assert 'FW_KEY_level[] FW_FLASH = "level"' in helpers.sketch_of(project, "uno").read_text(encoding="utf-8")
    assert "Compiling .pio/build/uno/src/uno.ino.cpp.o" in result.compiled()


def test_dangling_links_among_the_inputs_do_not_break_a_build(project: Path) -> None:
    """Case 4: Emacs lock links in definitions/ and generator/ leave the build up to date."""
    links = [project / "definitions" / "commands" / EMACS_LOCK, project / "generator" / "codegen" / ".#render.py",
             project / "templates" / ".#sketch.ino.j2"]
    for link in links:
        link.symlink_to("user@host.4242:1700000000")
    try:
        result = helpers.run_pio(project, "run", "-e", "uno")
    finally:
        for link in links:
            link.unlink()
    assert result.returncode == 0, result.output[-4000:]
    assert "up to date" in firmware_line(result.output)


def test_fifo_among_the_inputs_stops_the_build(project: Path) -> None:
    """Case 5: a FIFO named *.json stops the build at once with its path (it hung forever)."""
    fifo = project / "definitions" / "commands" / "pipe.json"
    os.mkfifo(fifo)
    try:
        result = helpers.run_pio(project, "run", "-e", "uno", timeout=120)
    finally:
        fifo.unlink()
    assert result.returncode != 0
    assert "commands/pipe.json: not a regular file (a FIFO, socket or device)" in result.output
    assert "Traceback" not in result.output


def test_board_definition_of_another_mcu_stops_the_build(project: Path) -> None:
    """Case 1 through pio: PlatformIO's MCU and platform reach the check; nothing is written."""
    sketch = helpers.FileState.of(helpers.sketch_of(project, "uno"))
    for chosen in ("arduino_mega2560", "wemos_d1_mini"):
        helpers.set_envs(project, {"uno": GOOD_UNO, "bad": helpers.avr_env("uno", board=chosen)})
        result = helpers.run_pio(project, "run", "-e", "bad")
        assert result.returncode != 0
        assert f"error: custom_firmware_board in [env:bad] selects '{chosen}'" in result.output
        assert "which does not fit the env's board 'uno' (MCU atmega328p, platform avr-debian)" in result.output
        assert "Traceback" not in result.output and result.compiled() == []
        assert helpers.files_under(project / "src" / "bad") == []
    assert helpers.FileState.of(helpers.sketch_of(project, "uno")) == sketch
    helpers.set_envs(project, {"uno": GOOD_UNO})


def test_unwritable_cpp_is_one_clear_error(project: Path) -> None:
    """Case 4: the .ino.cpp cannot be written (here a folder holds its name; a read-only
    src/uno/ is refused before generation): one message naming the path, no SCons traceback."""
    blocker = project / "src" / "uno" / "uno.ino.cpp"
    blocker.mkdir()
    try:
        result = helpers.run_pio(project, "run", "-e", "uno")
    finally:
        blocker.rmdir()
    assert result.returncode != 0
    assert "error: " in result.output and "src/uno/uno.ino.cpp: cannot read: Is a directory" in result.output
    assert "Traceback" not in result.output


def test_read_only_sketch_folder_is_named_before_generating(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A src/<env>/ the build may not write to is refused up front, naming it (tests run as
    root, for whom permission bits do not count: os.access answers as for a user)."""
    from generator import glue

    folder = tmp_path / "src" / "uno"
    folder.mkdir(parents=True)
    monkeypatch.setattr(glue.os, "access", lambda path, mode: Path(path) != folder)
    with pytest.raises(FirmwareError, match=rf"{folder}: the env's sketch folder is not writable"):
        glue.env_sketch(OPTIONS, UNO, tmp_path / "src", tmp_path / "build", "python", ide_refresh=False)
    assert helpers.files_under(folder) == []


def test_a_second_build_of_the_env_waits_for_the_first(project: Path) -> None:
    """Case 7: while a build of uno holds its lock, another one waits, then builds."""
    lock = helpers.build_dir(project, "uno") / "firmware-generator.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    fcntl.flock(fd, fcntl.LOCK_EX)
    proc = subprocess.Popen([helpers.PIO, "run", "-e", "uno"], cwd=project, env=helpers.pio_environ(project),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        seen = ""
        deadline = time.monotonic() + 120
        while "waiting for the other build of [env:uno]" not in seen and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen += line
        assert "firmware: waiting for the other build of [env:uno] to finish" in seen, seen[-3000:]
        time.sleep(1)
        assert proc.poll() is None, "the build went on while the lock was held"
    finally:
        os.close(fd)
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, (seen + output)[-4000:]


def test_concurrent_builds_of_one_env_both_succeed(project: Path) -> None:
    """Case 7: two `pio run -e uno` at once (after an edit, so both would compile) both succeed."""
    path = project / "definitions" / "commands" / "src" / "gpio_write_avr.cpp"  # the uno's
    path.write_text("// concurrent edit\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    procs = [subprocess.Popen([helpers.PIO, "run", "-e", "uno"], cwd=project, env=helpers.pio_environ(project),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [proc.communicate(timeout=300)[0] for proc in procs]
    for proc, output in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, output[-4000:]
    assert (helpers.build_dir(project, "uno") / "firmware.hex").is_file()
    assert not (project / "src" / "uno" / "uno.ino.cpp").exists()
