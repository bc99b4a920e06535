"""A project's own definitions folder (custom_firmware_definitions) laid over the shipped one:
it adds and overrides definitions, is checked by the same schemas, and errors name its files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.codegen.definitions import Definitions
from generator.codegen.selection import Selection
from generator.codegen.sketch import generate
from generator.errors import FirmwareError
from generator.paths import DEFINITIONS

COMMAND = {
    "id": "twice",
    "description": "Answers twice its argument.",
    "args": [{"name": "n", "type": "integer", "minimum": 0, "maximum": 100, "description": "A number."}],
    "code": {"functions": {"*": ["@file:commands/src/twice.cpp"]}},
}
CODE = ("static void cmd_twice(const long* args) {\n  fw_reply_begin();\n"
        "  fw_reply_int(F(\"twice\"), args[0] * 2);\n  fw_reply_end();\n}\n")


@pytest.fixture
def user(tmp_path: Path) -> Path:
    folder = tmp_path / "my_definitions"
    (folder / "commands" / "src").mkdir(parents=True)
    (folder / "commands" / "twice.json").write_text(json.dumps(COMMAND))
    (folder / "commands" / "src" / "twice.cpp").write_text(CODE)
    return folder


def test_a_users_command_is_added_and_generated(user: Path) -> None:
    defs = Definitions([user, DEFINITIONS])
    assert "twice" in defs.ids("command") and "gpio_read" in defs.ids("command")
    sketch = generate(Selection(board="uno", transport="serial_standard", commands=("twice",)), "fw",
                      [user, DEFINITIONS])
    assert "args[0] * 2" in sketch.content and "TWICE" in sketch.capabilities


def test_a_users_definition_overrides_the_shipped_one(user: Path) -> None:
    shipped = json.loads((DEFINITIONS / "commands" / "gpio_read.json").read_text())
    (user / "commands" / "gpio_read.json").write_text(json.dumps({**shipped, "description": "Mine."}))
    assert Definitions([user, DEFINITIONS]).get("command", "gpio_read")["description"] == "Mine."
    assert Definitions(DEFINITIONS).get("command", "gpio_read")["description"] != "Mine."


def test_errors_name_the_users_file(user: Path) -> None:
    (user / "commands" / "twice.json").write_text(json.dumps({**COMMAND, "args": [{"name": "n"}]}))
    with pytest.raises(FirmwareError, match=r"^my_definitions/commands/twice.json: does not match "
                                            r"schemas/command.schema.json"):
        Definitions([user, DEFINITIONS]).get("command", "twice")


def test_a_missing_user_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(FirmwareError, match="no_such: no such definitions folder"):
        Definitions([tmp_path / "no_such", DEFINITIONS])
