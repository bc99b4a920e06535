"""The catalogue on the simulated Uno (docs/protocol.md, "Catalogue" and "Integrity"): the board
reports the catalogue it was built with; a user's definition overriding a shipped command's reply
is spoken to correctly in frames; a board whose catalogue disagrees with the one a host was given
is refused, naming both hashes; CHECKSUM 1 refuses the `*`-to-newline damage of issue 18 case 4
and the frame number past 32 bits of case 5, pins unmoved. Real `pio run`, simavr, pyserial."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.codegen.selection import Selection
from generator.codegen.sketch import generate
from generator.errors import FirmwareError
from generator.host.client import BoardClient, frame
from generator.host.frames import encode_number, frame_forms, seal
from generator.paths import DEFINITIONS
from generator.protocol.catalogue import Catalogue
from generator.sim.board import SimBoard
from testsupport import helpers

SELECTION = {"transport": "serial_standard", "commands": "gpio_write, gpio_read, analog_read",
             "devices": "dht22_sensor, relay_module"}  # platformio.ini's uno env
ENVS = {"uno": helpers.avr_env("uno", **SELECTION),
        "mine": helpers.avr_env("uno", **SELECTION, definitions="my_definitions/")}
# The user's GPIO_READ answers its pin, the pull it set as text, then the level: another reply
# than the shipped one (pin, value), so frames read with the checkout's forms would be misread.
MINE = {
    "$schema": "../schemas/command.schema.json", "id": "gpio_read",
    "description": "Reads a pin, answering the pull it set and the level.",
    "args": [{"name": "pin", "type": "pin", "description": "Digital pin."},
             {"name": "pull", "type": "enum", "values": ["none", "up"], "default": "none", "description": "Pull."}],
    "reply": ["pin", {"name": "mode", "type": "text"}, "level"],
    "code": {"functions": {"*": "@file:commands/src/gpio_read.cpp"}},
}
MINE_CODE = ("static void cmd_gpio_read(const long* args) {\n"
             "  pinMode((uint8_t)args[0], args[1] ? INPUT_PULLUP : INPUT);\n"
             "  fw_reply_gpio_read(args[0], args[1] ? \"up\" : \"none\",\n"
             "                     digitalRead((uint8_t)args[0]) == HIGH ? 1 : 0);\n"
             "}\n")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project copy with the uno env and the same selection with the user's GPIO_READ."""
    root = helpers.copy_project(tmp_path_factory.mktemp("catalogue") / "project")
    helpers.write_user_command(root, MINE, MINE_CODE)
    helpers.set_envs(root, ENVS, defaults={"extra_scripts": "\npre:extra_scripts/generate_firmware.py"})
    result = helpers.run_pio(root, "run", "-e", "uno", "-e", "mine")
    assert result.returncode == 0, result.output
    return root


def board(project: Path, env: str) -> Iterator[tuple[SimBoard, BoardClient]]:
    with SimBoard(helpers.build_dir(project, env) / "firmware.elf", "atmega328p", 16_000_000) as sim:
        with BoardClient(sim.serial_port, 115200, timeout=3.0) as client:
            client.wait_ready()
            yield sim, client


def shipped_catalogue() -> Catalogue:
    """The catalogue this checkout's definitions give the uno env's selection."""
    selection = Selection(board="uno", transport="serial_standard", commands=tuple(SELECTION["commands"].split(", ")),
                          devices=tuple(SELECTION["devices"].split(", ")))
    return generate(selection, "uno", DEFINITIONS).catalogue


def test_the_board_reports_the_catalogue_it_was_built_with(project: Path) -> None:
    for _, client in board(project, "uno"):
        info = client.request("INFO")
        catalogue = client.read_catalogue()
        assert catalogue == shipped_catalogue()
        assert info["catalogue"] == catalogue.hash
        assert client.request("CATALOGUE 70000") == {"ok": 0, "cmd": "CATALOGUE", "error": "bad_args", "arg": "offset"}


def test_a_users_reply_override_is_spoken_correctly_in_frames(project: Path) -> None:
    """Issue 18 case 2: the host took GPIO_READ's frame form from its checkout, not the board."""
    for sim, client in board(project, "mine"):
        sim.set_pin("PD7", 1)
        client.info()
        text = client.request("GPIO_READ 7")
        assert text == {"ok": 1, "cmd": "GPIO_READ", "pin": 7, "mode": "none", "level": 1}
        client.info(compact=True)
        board_forms = client.forms
        client.forms = frame_forms(shipped_catalogue())  # what the old client did: the checkout's forms
        with pytest.raises(FirmwareError, match="does not match the board's catalogue"):
            client.request("GPIO_READ 7")  # a text value where the shipped form wants a number
        client.forms = board_forms
        assert client.catalogue is not None and client.catalogue != shipped_catalogue()
        assert client.prepare("GPIO_READ 7").form is not None  # it goes as a frame
        assert client.request("GPIO_READ 7") == text
        assert client.request("GPIO_READ 7 up") == {**text, "mode": "up"}
        assert [{k: v for k, v in r.items() if k != "id"} for r in client.pipeline(["GPIO_READ 7"] * 5)] == [text] * 5


def test_a_board_with_another_catalogue_is_refused_naming_both_hashes(project: Path) -> None:
    """A host holding the checkout's catalogue meets a board built from other definitions (as a
    board flashed from an older checkout is): frames are refused, text still works."""
    shipped = shipped_catalogue()
    for _, client in board(project, "mine"):
        board_hash = client.request("INFO")["catalogue"]
        assert board_hash != shipped.hash
        with pytest.raises(FirmwareError) as refused:
            client.info(compact=True, catalogue=shipped)
        assert board_hash in str(refused.value) and shipped.hash in str(refused.value)
        assert client.forms == {}
        assert client.request("PING") == {"ok": 1, "cmd": "PING"}
    for _, client in board(project, "uno"):
        client.info(compact=True, catalogue=shipped)  # the same hash: taken without reading the board's
        assert client.catalogue is shipped and "GPIO_READ" in client.forms


def damaged_write(pin: int) -> bytes:
    """`@7 GPIO_WRITE <pin> 0*hh` with two bits flipped: its 0 becomes 1 and its `*` a newline."""
    good = frame(f"GPIO_WRITE {pin} 0", 7)
    damaged = good.replace(b" 0*", b" 1\n")
    assert sum(bin(a ^ b).count("1") for a, b in zip(good, damaged, strict=True)) == 2
    return damaged


def test_star_to_newline_runs_without_checksum_1_and_is_refused_with_it(project: Path) -> None:
    """Issue 18 case 4: the damaged line arrives as `@7 GPIO_WRITE 3 1` and a bare `hh`; without
    CHECKSUM 1 it runs (what the old firmware always did), with it both lines are refused."""
    for sim, client in board(project, "uno"):
        assert client.request("GPIO_WRITE 3 0")["ok"] == 1
        client.link.write(damaged_write(3))
        first = json.loads(client.link.readline())
        client.link.readline()  # the bare checksum digits: unknown_command
        assert first["ok"] == 1 and sim.read_pin("PD3") == ("out", 1), "the old behaviour: it ran"
        assert client.request("GPIO_WRITE 3 0")["ok"] == 1
        client.require_checksums()
        client.link.write(damaged_write(3))
        replies = [json.loads(client.link.readline()) for _ in range(2)]
        assert replies == [{"ok": 0, "cmd": "", "error": "bad_checksum"}] * 2
        time.sleep(0.1)
        assert sim.read_pin("PD3") == ("out", 0), "a damaged request moved the pin"
        assert client.request("GPIO_WRITE 3 1") == {"ok": 1, "cmd": "GPIO_WRITE", "pin": 3, "value": 1}
        client.link.write(b"PING\n")  # a person typing, under CHECKSUM 1
        assert json.loads(client.link.readline())["error"] == "bad_checksum"
        assert client.request("RESET")["ok"] == 1 and not client.checksums  # off after a reset
        client.wait_ready()
        client.link.write(b"PING\n")
        assert json.loads(client.link.readline()) == {"ok": 1, "cmd": "PING"}


def test_a_frame_number_past_32_bits_is_refused_not_wrapped(project: Path) -> None:
    """Issue 18 case 5: pin 2**32 + 13 drove pin 13; now bad_args, naming the pin."""
    for sim, client in board(project, "uno"):
        info = client.request("INFO")
        assert client.request("FRAMES 1")["on"] == 1
        op = info["capabilities"].index("GPIO_WRITE")
        past = bytes([0x40 | 0x04, 0x40, 0x40, 0x40, 0x40, 0x1A])  # 2**32 + zigzag(13): 6 groups
        client.link.write(seal(bytes([0x80 | 2 << 5 | op]) + past + encode_number(1)))
        expected = seal(b"\xc2\x40bad_args\x00\x40pin\x00")
        assert client.link.read(len(expected)) == expected
        client.link.write(seal(bytes([0x80 | 2 << 5 | op]) + encode_number(13) + encode_number(1)))
        assert client.link.read(2) == seal(b"\x80")
        assert sim.read_pin("PB5") == ("out", 1)
        time.sleep(0.05)
        assert client.request("GPIO_WRITE 13 0")["ok"] == 1
