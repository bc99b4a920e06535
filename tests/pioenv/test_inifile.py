"""platformio.ini read without PlatformIO gives exactly what PlatformIO's ProjectConfig gives,
and `generate --env` writes the sketch the pre: script would (the real `pio run` comparison is
in test_pio_build.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
from platformio.project.config import ProjectConfig

from generator.errors import FirmwareError
from generator.pioenv.inifile import ProjectIni
from testsupport import helpers

TRICKY = """\
[platformio]
default_envs = a

[env]
custom_firmware_transport = serial_standard
custom_firmware_baud_rate = 57600   ; inline comment
monitor_speed = ${env.custom_firmware_baud_rate}

[common]
cmds = gpio_write,
    gpio_read   # hash comment

[env:a]
board = uno
custom_firmware_commands = ${common.cmds}
custom_firmware_wifi_ssid = net-${this.__env__}-${sysenv.WT7_TEST_VAR}
custom_firmware_tcp_port = ${this.monitor_speed}

[env:b]
extends = env:a
board = nanoatmega328
custom_firmware_baud_rate = 9600
custom_firmware_relay_active_low = ${sysenv.WT7_UNSET_VAR}
"""


def pio_items(path: Path, env: str) -> dict[str, object]:
    config = ProjectConfig(str(path))
    return {k: v for k, v in config.items(env=env, as_dict=True).items()
            if k.startswith("custom_") or k == "board"}


@pytest.mark.parametrize("source", ["shipped", "tricky"])
def test_same_values_as_platformio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    """Every env's board and custom_ options equal PlatformIO's own reading of the file."""
    monkeypatch.setenv("FIRMWARE_WIFI_PASSWORD", "pw ${not.expanded}")
    monkeypatch.setenv("WT7_TEST_VAR", "x")
    monkeypatch.delenv("WT7_UNSET_VAR", raising=False)
    monkeypatch.chdir(tmp_path)  # PlatformIO reads extra_configs relative to the current folder
    path = helpers.with_hardware_envs(tmp_path) if source == "shipped" else tmp_path / "platformio.ini"
    if source == "tricky":
        path.write_text(TRICKY, encoding="utf-8")
    ini = ProjectIni(path)
    assert ini.envs() == ProjectConfig(str(path)).envs()
    assert source == "tricky" or {"d1_mini", "bmcu_c"} <= set(ini.envs())
    for env in ini.envs():
        ours = {k: v for k, v in ini.env(env).values.items() if k.startswith("custom_") or k == "board"}
        assert ours == pio_items(path, env), env


def test_errors_name_the_file_and_option(tmp_path: Path) -> None:
    path = tmp_path / "platformio.ini"
    path.write_text("[env:a]\nboard = ${env.nothing}\n", encoding="utf-8")
    with pytest.raises(FirmwareError, match=r"\[env:a\] board refers to \$\{env.nothing\}"):
        ProjectIni(path).env("a")
    with pytest.raises(FirmwareError, match="no \\[env:zz\\]"):
        ProjectIni(path).env("zz")
    with pytest.raises(FirmwareError, match="cannot read"):
        ProjectIni(tmp_path / "missing.ini")


def test_generate_env_writes_the_env_sketch(tmp_path: Path) -> None:
    """`generate --env bmcu_c` (no PlatformIO for this env here) writes bmcu_c.ino, the same
    bytes as the pre: script's generation of the env's options."""
    from generator.codegen.selection import Selection
    from generator.codegen.sketch import generate

    ini = helpers.with_hardware_envs(tmp_path / "project")
    result = helpers.run_generator("generate", "--env", "bmcu_c", "-o", str(tmp_path), cwd=ini.parent)
    assert result.returncode == 0, result.stderr
    options = ProjectIni(ini).env("bmcu_c")
    expected = generate(Selection.from_platformio("bmcu_c", options.text("board"), options.firmware()), "bmcu_c")
    assert (tmp_path / "bmcu_c.ino").read_text(encoding="utf-8") == expected.content
    bad = helpers.run_generator("generate", "--env", "bmcu_c", "--board", "uno", cwd=ini.parent)
    assert bad.returncode != 0 and "drop --board" in bad.stderr


def test_generate_env_layers_the_env_own_definitions(tmp_path: Path) -> None:
    """`generate --env` reads the env's custom_firmware_definitions as the pre: script does: a
    command of the project's own is generated, byte for byte the pre: script's sketch; --definitions
    beside --env is refused (the env already says where its definitions are)."""
    from generator.codegen.selection import Selection
    from generator.codegen.sketch import generate
    from generator.paths import DEFINITIONS

    root = tmp_path / "project"
    helpers.write_user_command(root, {"id": "uptime", "description": "Replies millis().", "reply": ["ms"],
                                      "code": {"functions": {"*": "@file:commands/src/uptime.cpp"}}},
                               "static void cmd_uptime(const long* args) {\n  (void)args;\n"
                               "  fw_reply_uptime((long)millis());\n}\n")
    (root / "platformio.ini").write_text(
        "[env:mine]\nboard = uno\ncustom_firmware_transport = serial_standard\n"
        "custom_firmware_commands = uptime, gpio_read\ncustom_firmware_definitions = my_definitions\n",
        encoding="utf-8")
    result = helpers.run_generator("generate", "--env", "mine", "--project-dir", str(root), "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    options = ProjectIni(root / "platformio.ini").env("mine")
    expected = generate(Selection.from_platformio("mine", "uno", options.firmware()), "mine",
                        [root / "my_definitions", DEFINITIONS])
    written = (tmp_path / "mine.ino").read_text(encoding="utf-8")
    assert written == expected.content and "cmd_uptime" in written
    both = helpers.run_generator("generate", "--env", "mine", "--project-dir", str(root),
                                 "--definitions", str(DEFINITIONS))
    assert both.returncode != 0 and "drop --definitions" in both.stderr
