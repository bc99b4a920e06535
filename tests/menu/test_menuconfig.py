"""`pio run -e uno -t menuconfig` driven in a real terminal (tmux): a device and a setting chosen,
a refused setting shown with the generator's own message and never saved, the choice written to
platformio_override.ini beside what the file already held, then built by a real `pio run`."""
from __future__ import annotations

import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.errors import FirmwareError
from generator.menu.model import MenuModel
from generator.pioenv.override import update_env
from testsupport import helpers

EXISTING = """; my local changes
[env:uno]
upload_port = /dev/ttyUSB9   ; my board
custom_firmware_commands = gpio_write, gpio_read, analog_read

[env:nano]
monitor_filters = direct
"""


class Terminal:
    """A program in a tmux pane of its own server (120x40), read as the screen shows it."""

    def __init__(self, name: str, command: str) -> None:
        self.base = ["tmux", "-L", name]
        # tmux sizes a detached pane just after starting its program: wait for 120x40 first
        wait = 'for i in $(seq 100); do [ "$(stty size)" = "40 120" ] && break; sleep 0.1; done'
        subprocess.run([*self.base, "new-session", "-d", "-x", "120", "-y", "40",
                        f"{wait}; {command}; echo EXIT $?; sleep 600"], check=True)

    def screen(self) -> str:
        return subprocess.run([*self.base, "capture-pane", "-p"], check=True, capture_output=True,
                              text=True).stdout

    def keys(self, *keys: str) -> None:
        for key in keys:  # one at a time: the menu redraws between them
            subprocess.run([*self.base, "send-keys", key], check=True)
            time.sleep(0.05)

    def wait_for(self, text: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            assert time.monotonic() < deadline, f"{text!r} never shown; the screen:\n{screen}"
            time.sleep(0.2)

    def highlighted(self) -> str:
        return next((line for line in self.screen().splitlines() if line.startswith("> ")), "")

    def highlight(self, text: str) -> str:
        """Move down until the highlighted row (marked '>') holds `text`, one row at a time:
        each Down is sent once the screen shows the previous one done."""
        for _ in range(40):
            row = self.highlighted()
            if text in row:
                return row
            self.keys("Down")
            deadline = time.monotonic() + 60
            while self.highlighted() == row:
                assert time.monotonic() < deadline, f"Down did nothing:\n{self.screen()}"
                time.sleep(0.1)
        raise AssertionError(f"no row {text!r}:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run([*self.base, "kill-server"], check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = helpers.copy_project(tmp_path / "project")
    (root / "platformio_override.ini").write_text(EXISTING, encoding="utf-8")
    return root


@pytest.fixture
def terminal(project: Path) -> Iterator[Terminal]:
    if not shutil.which("tmux"):
        pytest.fail("tmux is missing: run `make build` (it installs it)")
    env = helpers.pio_environ(project)
    command = (f"cd {shlex.quote(str(project))} && env PLATFORMIO_CORE_DIR={shlex.quote(env['PLATFORMIO_CORE_DIR'])} "
               f"PLATFORMIO_NO_ANSI=true {shlex.quote(helpers.PIO)} run -e uno -t menuconfig")
    term = Terminal(f"menuconfig-{project.parent.name}", command)
    yield term
    term.close()


def test_menuconfig_in_a_terminal_then_pio_run_builds_the_choice(project: Path, terminal: Terminal) -> None:
    ini_before = (project / "platformio.ini").read_bytes()
    terminal.wait_for("menuconfig [env:uno]  board arduino_uno")
    assert "ok: generates" in terminal.screen()

    terminal.highlight("Devices")
    terminal.keys("Enter")
    terminal.wait_for("> Devices")
    row = terminal.highlight("led_dimmer")
    assert row.startswith("> [ ] led_dimmer") and "-> pwm_write, gpio_write" in row
    terminal.keys("Space")
    terminal.wait_for("[x] led_dimmer")
    terminal.keys("Escape")
    terminal.wait_for("> Main")

    terminal.highlight("Settings")
    terminal.keys("Enter")
    terminal.wait_for("> Settings")
    terminal.highlight("RS485_DE_PIN")
    terminal.keys("Enter", *["BSpace"] * 4, "1", "Enter")  # pin 1 is Serial's TX
    screen = terminal.wait_for("REFUSED (as pio run would): RS485_DE_PIN = 1: not a digital pin of board "
                               "'arduino_uno' free of Serial's RX/TX")
    terminal.keys("s")
    terminal.wait_for("REFUSED: RS485_DE_PIN = 1")
    assert (project / "platformio_override.ini").read_text(encoding="utf-8") == EXISTING
    terminal.keys("d")
    terminal.wait_for("ok: generates")

    terminal.highlight("BAUD_RATE")  # Down wraps round to the first row
    terminal.keys("Enter", *["BSpace"] * 8, *"57600", "Enter")
    screen = terminal.wait_for("BAUD_RATE          = 57600")
    assert "ok: generates" in screen
    terminal.keys("s")
    screen = terminal.wait_for("EXIT 0")
    assert "menuconfig: saved [env:uno]" in screen

    override = (project / "platformio_override.ini").read_text(encoding="utf-8")
    assert override == (
        "; my local changes\n"
        "[env:uno]\n"
        "upload_port = /dev/ttyUSB9   ; my board\n"
        "custom_firmware_devices = dht22_sensor, relay_module, led_dimmer\n"
        "custom_firmware_baud_rate = 57600\n"
        "\n"
        "[env:nano]\n"
        "monitor_filters = direct\n")
    assert (project / "platformio.ini").read_bytes() == ini_before

    result = helpers.run_pio(project, "run", "-e", "uno")
    assert result.returncode == 0, result.output
    assert "capabilities: ANALOG_READ, DHT_READ, GPIO_READ, GPIO_WRITE, PWM_WRITE, RELAY_SET" in result.output
    assert "// serial_standard: Serial (RX pin 0, TX pin 1) at 57600 baud." in \
        helpers.sketch_of(project, "uno").read_text(encoding="utf-8")


def test_the_menu_lists_only_what_fits_the_board_with_the_definitions_facts(project: Path) -> None:
    """The Leonardo: serial only (no WiFi on an AVR), the AVR commands, USB CDC as Serial."""
    (project / "platformio_override.ini").write_text(
        "[env:leo]\nplatform = symlink://platforms/avr-debian\nboard = leonardo\n", encoding="utf-8")
    model = MenuModel(project, "leo")
    assert [t.id for t in model.transports()] == ["serial_standard"]
    commands = {c.id: c for c in model.commands_available()}
    assert "frames" not in commands and "info" not in commands  # system commands are always in
    assert "GPIO_WRITE <pin> <value>" in commands["gpio_write"].details
    assert {d.id for d in model.devices_available()} >= {"dht22_sensor", "relay_module"}
    settings = {s.name: s for s in model.settings_available()}
    assert "default 115200" in settings["BAUD_RATE"].details()
    with pytest.raises(FirmwareError, match="must be an integer from 300 to 2000000"):
        model.set_setting(settings["BAUD_RATE"], "fast")
    model.set_setting(settings["RS485_DE_PIN"], "4")
    with pytest.raises(FirmwareError, match="is native USB"):
        model.save()
    assert "custom_firmware_rs485_de_pin" not in (project / "platformio_override.ini").read_text(encoding="utf-8")


def test_the_override_file_keeps_what_it_held(tmp_path: Path) -> None:
    path = tmp_path / "platformio_override.ini"
    path.write_text("[env:uno]\ncustom_firmware_commands =\n    gpio_write\n    gpio_read\n; note\n"
                    "build_flags = -DX\n\n[env:other]\nboard = nano\n", encoding="utf-8")
    assert update_env(path, "uno", {"custom_firmware_devices": "relay_module"}, ["custom_firmware_commands"])
    assert path.read_text(encoding="utf-8") == ("[env:uno]\n; note\nbuild_flags = -DX\n"
                                                "custom_firmware_devices = relay_module\n\n[env:other]\nboard = nano\n")
    assert not update_env(path, "uno", {"custom_firmware_devices": "relay_module"}, [])
    update_env(path, "new", {"custom_firmware_transport": "serial_standard"}, [])
    assert path.read_text(encoding="utf-8").endswith(
        "board = nano\n\n[env:new]\n; written by `python -m generator menuconfig --env new`\n"
        "custom_firmware_transport = serial_standard\n")


def test_menuconfig_without_a_terminal_says_so() -> None:
    result = helpers.run_generator("menuconfig", "--env", "uno")
    assert result.returncode == 1
    assert "menuconfig needs a terminal" in result.stderr


def test_a_project_that_does_not_read_the_override_is_refused(project: Path) -> None:
    ini = project / "platformio.ini"
    ini.write_text(ini.read_text(encoding="utf-8").replace("    platformio_override*.ini\n", ""), encoding="utf-8")
    with pytest.raises(FirmwareError, match="does not read platformio_override.ini"):
        MenuModel(project, "uno")
