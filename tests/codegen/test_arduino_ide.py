"""The generated sketch is a plain Arduino IDE sketch: arduino-builder (the IDE 1.8 build, with
its own .ino preprocessing) compiles it for the Uno and the Mega with every command."""
from __future__ import annotations

from pathlib import Path

import pytest

from generator.codegen.selection import Selection
from generator.codegen.sketch import generate
from testsupport import helpers


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

    result = helpers.arduino_builder(folder / sketch.filename, fqbn, tmp_path / "build")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Sketch uses" in result.stdout
    info = helpers.find_info_reply(helpers.read_intel_hex(tmp_path / "build" / "firmware.ino.hex"))
    assert info["capabilities"] == sorted(c.upper() for c in commands)
    assert info["hash"] == sketch.hash and info["board"] == sketch.board
