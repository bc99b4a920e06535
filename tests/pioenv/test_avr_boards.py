"""Every AVR board the generator lists builds offline: the Leonardo and Micro (ATmega32U4, native
USB), the Pro/Pro Mini at 16 and 8 MHz, with real `pio run`s; the 8 MHz Pro Mini runs on the
simulated board at its own clock; boards nobody can build or simulate are refused with the reason.
"""
from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.boards import board_facts
from generator.host.client import BoardClient
from generator.paths import DEFINITIONS, ROOT
from generator.sim.board import PinEvent, SimBoard
from testsupport import helpers

PLATFORM_BOARDS = ROOT / "platforms" / "avr-debian" / "boards"
ALL = "gpio_write, gpio_read, analog_read, pwm_write, relay_set, dht_read, gpio_watch, analog_watch"

# A user's own command (custom_firmware_definitions), as in the README: millis() in the reply,
# with pin 13 toggled just before reading it, so the simulator stamps the moment in cycles.
UPTIME = {
    "$schema": "../schemas/command.schema.json",
    "id": "uptime",
    "description": "Toggles pin 13, then replies millis().",
    "reply": ["ms"],
    "code": {"setup": {"*": "uptime_begin"}, "functions": {"*": "@file:commands/src/uptime.cpp"}},
}
UPTIME_CPP = """static void uptime_begin() {
  pinMode(13, OUTPUT);
}

static void cmd_uptime(const long* args) {
  (void)args;
  digitalWrite(13, !digitalRead(13));
  const unsigned long now = millis();
  fw_reply_uptime((long)now);
}
"""

ENVS = {
    "leo": helpers.avr_env("leonardo", commands=ALL),
    "micro": helpers.avr_env("micro", commands="gpio_write, analog_read"),
    "pro16": helpers.avr_env("pro16MHzatmega328", commands=ALL),
    "pro8": {**helpers.avr_env("pro8MHzatmega328", commands="uptime, gpio_read, dht_read"),
             "custom_firmware_definitions": "my_definitions"},
}
# Envs that must fail, built one at a time by their tests (a changed platformio.ini would make
# PlatformIO delete every env's build folder).
BROKEN = {
    "wrong_clock": {**helpers.avr_env("pro16MHzatmega328", commands="gpio_write"),
                    "custom_firmware_board": "arduino_pro_8mhz"},
    "typo": helpers.avr_env("leonard"),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project copy with the new boards' envs, built once by a real `pio run`."""
    root = helpers.copy_project(tmp_path_factory.mktemp("boards") / "project")
    helpers.write_user_command(root, UPTIME, UPTIME_CPP)
    helpers.set_envs(root, {**ENVS, **BROKEN})
    result = helpers.run_pio(root, "run", *[arg for env in ENVS for arg in ("-e", env)], timeout=900)
    assert result.returncode == 0, result.output
    return root


def test_every_avr_board_a_definition_covers_is_in_the_offline_platform() -> None:
    """What `generator list` offers for AVR, the offline platform has, with the same MCU and clock."""
    for path in sorted((DEFINITIONS / "boards").glob("*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        if definition["architecture"] != "avr":
            continue
        for board in definition["platformio_boards"]:
            manifest = PLATFORM_BOARDS / f"{board}.json"
            assert manifest.is_file(), f"{path.name} lists {board}, which platforms/avr-debian cannot build"
            build = json.loads(manifest.read_text(encoding="utf-8"))["build"]
            assert build["mcu"] == definition["mcu"], board
            assert int(build["f_cpu"].rstrip("L")) == definition["f_cpu"], board


def test_the_new_boards_build_with_their_own_clock_and_serial(project: Path) -> None:
    leo = helpers.sketch_of(project, "leo").read_text(encoding="utf-8")
    assert "// serial_standard: Serial, native USB (CDC ACM" in leo
    assert "0: Serial RX" not in leo  # USB CDC has no pins: 0 and 1 stay free (they are Serial1)
    assert "17: RX LED (PB0)" in leo and "30: TX LED (PD5)" in leo
    assert "#if F_CPU != 16000000UL" in leo
    assert "#if F_CPU != 8000000UL" in helpers.sketch_of(project, "pro8").read_text(encoding="utf-8")
    for env, kib in (("leo", 28), ("micro", 28), ("pro16", 30), ("pro8", 30)):
        flash, _ram = helpers.flash_and_ram(helpers.build_dir(project, env) / "firmware.elf")
        assert 0 < flash <= kib * 1024, env


def test_a_definition_of_another_clock_stops_the_compiler(project: Path) -> None:
    """custom_firmware_board = the 8 MHz Pro on a 16 MHz Pro (same MCU, so the selection fits):
    the sketch's clock check stops the build rather than make firmware that runs at half speed."""
    result = helpers.run_pio(project, "run", "-e", "wrong_clock")
    assert result.returncode != 0
    assert "F_CPU is not 8000000, the clock of board definition arduino_pro_8mhz" in result.output


@pytest.fixture
def pro8(project: Path) -> Iterator[tuple[SimBoard, BoardClient]]:
    board = board_facts("pro8MHzatmega328")
    assert board.f_cpu == 8_000_000
    elf = helpers.build_dir(project, "pro8") / "firmware.elf"
    with SimBoard(elf, board.simulated().mcu, board.f_cpu) as sim, \
            BoardClient(sim.serial_port, 115200, timeout=5.0) as client:
        client.wait_ready()
        yield sim, client


def _uptime(sim: SimBoard, client: BoardClient) -> tuple[int, int]:
    """(cycle of the pin toggle, millis() read right after it)."""
    since = sim.mark()
    ms = client.request("UPTIME")["ms"]
    return sim.wait_for(PinEvent, since=since, where=lambda e: e.pin == "PB5", timeout=10).cycle, ms


def test_pro_mini_8mhz_runs_at_8mhz_on_the_simulator(pro8: tuple[SimBoard, BoardClient]) -> None:
    """millis() advances one per 8000 simulated cycles: the firmware's clock (F_CPU) and the
    simulator's (--freq, from the definition) are both 8 MHz. At 16 MHz it would be 16000."""
    sim, client = pro8
    info = client.request("INFO")
    assert info["board"] == "arduino_pro_8mhz"
    cycle1, ms1 = _uptime(sim, client)
    while sim.cycles() - cycle1 < 4_000_000:  # half a simulated second at least
        client.request("PING")
    cycle2, ms2 = _uptime(sim, client)
    per_ms = (cycle2 - cycle1) / (ms2 - ms1)
    assert 7_800 < per_ms < 8_200, per_ms


def test_pro_mini_8mhz_reads_a_dht22_with_its_microsecond_timing(pro8: tuple[SimBoard, BoardClient]) -> None:
    sim, client = pro8
    sim.attach_dht("PD2", "dht22", 21.5, 40.0)
    assert client.request("DHT_READ 2") == {"ok": 1, "cmd": "DHT_READ", "pin": 2, "model": "dht22",
                                            "temperature": 21.5, "humidity": 40.0}


def test_simulate_refuses_a_native_usb_board_with_the_reason(project: Path) -> None:
    """`-t simulate` on the Leonardo: the simulator has no USB host, and says so."""
    result = helpers.run_pio(project, "run", "-e", "leo", "-t", "simulate")
    assert result.returncode != 0
    assert ("board 'arduino_leonardo' (Arduino Leonardo (ATmega32U4)) cannot be simulated: the ATmega32U4's "
            "Serial is its native USB") in result.output
    assert "Traceback" not in result.output


def test_an_unknown_board_lists_the_offline_boards_and_how_to_add_one(project: Path) -> None:
    result = helpers.run_pio(project, "run", "-e", "typo")
    assert result.returncode != 0
    out = result.output
    assert "Unknown board ID 'leonard' for the offline platform avr-debian" in out
    assert "did you mean 'leonardo'? it builds: leonardo, megaADK, megaatmega2560, micro, nanoatmega328, " \
           "nanoatmega328new, pro16MHzatmega328, pro8MHzatmega328, uno." in out
    assert "copy its file from PlatformIO's platform-atmelavr (boards/<id>.json)" in out


def test_generate_with_an_unknown_board_says_how_to_add_one() -> None:
    result = helpers.run_generator("generate", "--board", "promini", "--transport", "serial_standard", "--json")
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert "unknown board 'promini' (--board)" in error and "pro8MHzatmega328" in error
    assert "to add a board, describe it in a file definitions/boards/<id>.json" in error


def test_a_usb_cdc_port_has_no_pins_and_takes_no_rs485(definitions_copy: Path) -> None:
    """The schema refuses RX/TX on a USB CDC port; RS-485 on it is refused by name."""
    leonardo = json.loads((definitions_copy / "boards" / "arduino_leonardo.json").read_text(encoding="utf-8"))
    leonardo["serial"]["rx"] = 0
    (definitions_copy / "boards" / "arduino_leonardo.json").write_text(json.dumps(leonardo), encoding="utf-8")
    check = helpers.run_generator("check", "--definitions", str(definitions_copy))
    assert check.returncode == 1 and "arduino_leonardo.json" in check.stdout
    result = helpers.run_generator("generate", "--board", "leonardo", "--transport", "serial_standard",
                                   "--set", "RS485_DE_PIN=4", "--json")
    assert "RS485_DE_PIN = 4: Serial of board 'arduino_leonardo' is native USB" in json.loads(result.stdout)["error"]


def test_generator_simulate_refuses_the_micro(tmp_path: Path) -> None:
    elf = tmp_path / "firmware.elf"
    elf.write_bytes(b"")
    result = subprocess.run([helpers.PYTHON, "-m", "generator", "simulate", "--board", "micro", "--baud", "115200",
                             "--elf", str(elf)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "cannot be simulated: the ATmega32U4's Serial is its native USB" in result.stderr
