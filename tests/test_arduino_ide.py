"""The generated sketch is a plain Arduino IDE sketch: arduino-builder (the IDE 1.8 build, with
its own .ino preprocessing) compiles it for the Uno and the Mega with every command."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import helpers
from generator.selection import Selection
from generator.sketch import generate

HARDWARE = Path("/usr/share/arduino/hardware")
BUILDER = Path("/usr/share/arduino-builder")


def arduino_builder(sketch: Path, fqbn: str, build: Path) -> subprocess.CompletedProcess[str]:
    """Compile a sketch folder as the Arduino IDE does (see /work/shared/notes/offline-build.md)."""
    tool = shutil.which("arduino-builder")
    assert tool, "arduino-builder is missing: apt-get install arduino-builder arduino-ctags (make deps)"
    build.mkdir(parents=True)
    return subprocess.run(
        [tool, "-compile", "-hardware", str(HARDWARE), "-hardware", str(BUILDER), "-tools", str(BUILDER),
         "-fqbn", fqbn, "-prefs=compiler.cpp.extra_flags=-DDECIMAL_DIG=__DECIMAL_DIG__",
         "-build-path", str(build), str(sketch)],
        capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize(("board", "fqbn"), [("uno", "arduino:avr:uno"),
                                             ("megaatmega2560", "arduino:avr:mega:cpu=atmega2560")])
def test_sketch_with_every_command_compiles_in_the_arduino_ide(tmp_path: Path, board: str, fqbn: str) -> None:
    """Every AVR command at once; the .hex holds the INFO reply of that selection."""
    commands = helpers.non_system_commands(arch="avr")
    assert set(commands) >= {"gpio_write", "gpio_read", "analog_read", "pwm_write", "relay_set", "dht_read"}
    sketch = generate(Selection(board=board, transport="serial_standard", commands=tuple(commands)), "firmware")
    folder = tmp_path / "firmware"
    folder.mkdir()
    (folder / sketch.filename).write_text(sketch.content, encoding="utf-8")

    result = arduino_builder(folder / sketch.filename, fqbn, tmp_path / "build")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Sketch uses" in result.stdout
    info = helpers.find_info_reply(helpers.read_intel_hex(tmp_path / "build" / "firmware.ino.hex"))
    assert info["capabilities"] == sorted(c.upper() for c in commands)
    assert info["hash"] == sketch.hash and info["board"] == sketch.board
