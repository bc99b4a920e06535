"""The real chain: `pio run` builds a selection, the simulated board runs it, pyserial talks to it.

Every reply here comes from generated firmware compiled by avr-gcc and executed cycle by cycle
by simavr; pin levels, ADC voltages and the DHT sensor are the simulator's, seen through the
firmware's protocol.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import serial

from generator.boards import board_facts
from generator.host.client import BoardClient
from generator.paths import stamp_path
from generator.pioenv.envsketch import Stamp
from generator.sim.board import PwmEvent, SimBoard
from testsupport import helpers, targets

ALL = "gpio_write, gpio_read, analog_read, pwm_write, relay_set, dht_read"
ENVS = {
    "uno": helpers.avr_env("uno", transport="serial_standard", commands=ALL),
    "simlow": helpers.avr_env("nanoatmega328", transport="serial_standard", commands="relay_set, GPIO_READ",
                              relay_active_low="true", baud_rate="57600"),
    "simmega": helpers.avr_env("megaatmega2560", transport="serial_standard", commands="gpio_write, gpio_read"),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project copy with three envs, built once by a real `pio run`."""
    root = helpers.copy_project(tmp_path_factory.mktemp("sim") / "project")
    helpers.set_envs(root, ENVS, defaults={"extra_scripts": "\npre:extra_scripts/generate_firmware.py"
                                                              "\npost:extra_scripts/board_targets.py"})
    result = helpers.run_pio(root, "run", *[arg for env in ENVS for arg in ("-e", env)])
    assert result.returncode == 0, result.output
    return root


def stamp(project: Path, env: str) -> Stamp:
    """What the pre-script recorded about the env's sketch (hash and capabilities)."""
    recorded = Stamp.load(stamp_path(helpers.build_dir(project, env)))
    assert recorded is not None
    return recorded


Board = helpers.SimulatedBoard


def simulated(project: Path, env: str, **options: Any) -> SimBoard:
    """The simulated board of the env's definition (MCU and clock from definitions/boards/)."""
    board = board_facts(stamp(project, env).identity.board)
    return SimBoard(helpers.build_dir(project, env) / "firmware.elf", board.simulated().mcu, board.f_cpu, **options)


def start_board(project: Path, env: str, **options: Any) -> Iterator[Board]:
    with simulated(project, env, **options) as sim:
        with BoardClient(sim.serial_port, stamp(project, env).baud_rate or 0, timeout=3.0) as client:
            client.wait_ready()
            yield Board(sim, client)


@pytest.fixture
def uno(project: Path) -> Iterator[Board]:
    yield from start_board(project, "uno")


def test_ping(uno: Board) -> None:
    assert uno.ask("PING") == {"ok": 1, "cmd": "PING"}
    assert uno.ask("ping") == {"ok": 1, "cmd": "PING"}


def test_info_reports_the_selection_and_its_hash(project: Path, uno: Board) -> None:
    info = uno.client.info()
    expected = stamp(project, "uno")
    assert info.capabilities == ["analog_read", "dht_read", "gpio_read", "gpio_write", "pwm_write", "relay_set"]
    assert [c.upper() for c in info.capabilities] == expected.capabilities
    assert info.hash == expected.identity.hash and re.fullmatch(r"[0-9a-f]{8}", info.hash)
    assert (info.board, info.transport) == ("arduino_uno", "serial_standard")


def test_reset_restarts_the_board_which_answers_again(uno: Board) -> None:
    uno.reset()
    assert uno.ask("PING")["ok"] == 1


def test_gpio_write_drives_the_pin(uno: Board) -> None:
    assert uno.ask("GPIO_WRITE 13 1") == {"ok": 1, "cmd": "GPIO_WRITE", "pin": 13, "value": 1}
    uno.sim.wait_for_pin("PB5", 1, timeout=2)
    assert uno.sim.read_pin("PB5") == ("out", 1)
    uno.ask("gpio_write 13 0")
    uno.sim.wait_for_pin("PB5", 0, timeout=2)
    uno.ask("GPIO_WRITE A2 1")  # analog pins are digital pins too: A2 is PC2
    uno.sim.wait_for_pin("PC2", 1, timeout=2)


@pytest.mark.parametrize(("pin", "port"), [(9, "PB1"), (7, "PD7"), (19, "PC5")])
def test_gpio_write_ends_a_pwm_and_drives_any_port(uno: Board, pin: int, port: str) -> None:
    """The AVR gpio_write looks a pin without a PWM timer up itself (issue 19); a pin with one
    goes through the core, whose digitalWrite ends its PWM: the board then reports a plain level."""
    if pin == 9:
        since = uno.sim.mark()
        uno.ask("PWM_WRITE 9 64")
        uno.sim.wait_for_pwm(port, since=since, timeout=3)
    for level in (1, 0, 1):
        assert uno.ask(f"GPIO_WRITE {pin} {level}") == {"ok": 1, "cmd": "GPIO_WRITE", "pin": pin, "value": level}
        uno.sim.wait_for_pin(port, level, timeout=2)
        assert uno.sim.read_pin(port) == ("out", level)


def test_relay_set_active_high_and_active_low(project: Path, uno: Board) -> None:
    assert uno.ask("RELAY_SET 8 1") == {"ok": 1, "cmd": "RELAY_SET", "pin": 8, "state": 1}
    uno.sim.wait_for_pin("PB0", 1, timeout=2)
    uno.ask("RELAY_SET 8 0")
    uno.sim.wait_for_pin("PB0", 0, timeout=2)
    for low in start_board(project, "simlow"):
        assert low.ask("RELAY_SET 8 1")["state"] == 1
        low.sim.wait_for_pin("PB0", 0, timeout=2)   # on = driven low
        assert low.sim.read_pin("PB0") == ("out", 0)
        low.ask("RELAY_SET 8 0")
        low.sim.wait_for_pin("PB0", 1, timeout=2)


def test_gpio_read_returns_what_the_simulator_drives(uno: Board) -> None:
    uno.sim.set_pin("PD7", 1)
    assert uno.ask("GPIO_READ 7") == {"ok": 1, "cmd": "GPIO_READ", "pin": 7, "value": 1}
    uno.sim.set_pin("PD7", 0)
    assert uno.ask("GPIO_READ 7")["value"] == 0
    assert uno.ask("GPIO_READ 4 up")["value"] == 1      # nothing drives PD4: the pull-up reads 1
    uno.sim.set_pin("PD4", 0)
    assert uno.ask("GPIO_READ 4 UP")["value"] == 0


def test_gpio_read_sets_the_mode_it_is_asked_for_each_time(uno: Board) -> None:
    """The AVR gpio_read reads a pin already set as asked straight from its port (issue 19);
    any other pin still gets its mode first: an output becomes an input, the pull-up comes on
    when asked, a PWM pin becomes a plain input. (The pull-up going off cannot be seen here:
    simavr's floating pin keeps its last level, as a real one does for a while.)"""
    uno.ask("GPIO_WRITE 4 0")
    assert uno.ask("GPIO_READ 4")["value"] == 0 and uno.sim.read_pin("PD4") == ("in", 0)
    for _ in range(2):  # the pull-up switched on, then already on
        assert uno.ask("GPIO_READ 4 up")["value"] == 1 and uno.sim.read_pin("PD4") == ("in", 1)
    for level in (0, 1, 0):  # driven from outside: read as set
        uno.sim.set_pin("PD4", level)
        assert uno.ask("GPIO_READ 4 up")["value"] == level
    uno.sim.release_pin("PD4")
    uno.ask("GPIO_WRITE 4 1")
    uno.ask("GPIO_READ 4 up")
    assert uno.sim.read_pin("PD4") == ("in", 1)
    since = uno.sim.mark()
    uno.ask("PWM_WRITE 9 64")
    uno.sim.wait_for_pwm("PB1", since=since, timeout=3)
    assert uno.ask("GPIO_READ 9 up")["value"] == 1 and uno.sim.read_pin("PB1") == ("in", 1)


@pytest.mark.parametrize(("pin", "channel", "millivolts"), [("A0", 0, 2500), ("A3", 3, 1000), ("19", 5, 4990)])
def test_analog_read_returns_the_simulated_voltage(uno: Board, pin: str, channel: int, millivolts: int) -> None:
    uno.sim.set_adc(channel, millivolts)
    reply = uno.ask(f"ANALOG_READ {pin}")
    assert reply["pin"] == 14 + channel
    assert abs(reply["value"] - millivolts * 1023 / 5000) <= 1


@pytest.mark.parametrize(("pin", "port"), [(9, "PB1"), (6, "PD6")])
def test_pwm_write_gives_the_duty_cycle_on_the_pin(uno: Board, pin: int, port: str) -> None:
    since = uno.sim.mark()
    assert uno.ask(f"PWM_WRITE {pin} 64") == {"ok": 1, "cmd": "PWM_WRITE", "pin": pin, "duty": 64}
    event = uno.sim.wait_for_pwm(port, since=since, timeout=3)
    assert abs(event.duty - 64 / 255) < 0.01
    since = uno.sim.mark()
    uno.ask(f"PWM_WRITE {pin} 191")
    event = uno.sim.wait_for(PwmEvent, since=since, where=lambda e: e.pin == port and e.duty > 0.5, timeout=3)
    assert abs(event.duty - 191 / 255) < 0.01
    assert uno.ask("PWM_WRITE 7 10")["error"] == "bad_pin"  # pin 7 has no PWM


@pytest.mark.parametrize(("model", "temperature", "humidity"),
                         [("dht22", 23.5, 45.0), ("dht22", -7.3, 88.8), ("dht11", 21.0, 38.0)])
def test_dht_read_returns_the_simulated_sensor(uno: Board, model: str, temperature: float, humidity: float) -> None:
    uno.sim.attach_dht("PD2", model, temperature, humidity)
    reply = uno.ask(f"DHT_READ 2 {model}")
    assert reply == {"ok": 1, "cmd": "DHT_READ", "pin": 2, "model": model,
                     "temperature": temperature, "humidity": humidity}


def test_dht_read_without_sensor_times_out_and_the_board_goes_on(uno: Board) -> None:
    assert uno.ask("DHT_READ 3") == {"ok": 0, "cmd": "DHT_READ", "error": "sensor_timeout"}
    assert uno.ask("PING")["ok"] == 1


@pytest.mark.parametrize("line", ["GPIO_WRITE 0 1", "GPIO_WRITE 1 1", "GPIO_READ 0", "RELAY_SET 1 1",
                                  "DHT_READ 0", "PWM_WRITE 1 10"])
def test_serial_pins_are_reserved(uno: Board, line: str) -> None:
    assert uno.ask(line) == {"ok": 0, "cmd": line.split()[0], "error": "reserved_pin", "arg": "pin"}
    assert uno.ask("PING")["ok"] == 1   # the link still works: RX/TX were not touched


BAD_LINES = [
    (b"FOO 1 2", {"ok": 0, "cmd": "FOO", "error": "unknown_command"}),
    (b"GPIO_WRITE 13", {"ok": 0, "cmd": "GPIO_WRITE", "error": "bad_args"}),
    (b"GPIO_WRITE 13 1 1", {"ok": 0, "cmd": "GPIO_WRITE", "error": "bad_args"}),
    (b"PING extra", {"ok": 0, "cmd": "PING", "error": "bad_args"}),
    (b"GPIO_WRITE x 1", {"ok": 0, "cmd": "GPIO_WRITE", "error": "bad_args", "arg": "pin"}),
    (b"GPIO_WRITE 13 2", {"ok": 0, "cmd": "GPIO_WRITE", "error": "bad_args", "arg": "value"}),
    (b"GPIO_WRITE 13 -0x1", {"ok": 0, "cmd": "GPIO_WRITE", "error": "bad_args", "arg": "value"}),
    (b"GPIO_WRITE 99 1", {"ok": 0, "cmd": "GPIO_WRITE", "error": "bad_pin", "arg": "pin"}),
    (b"PWM_WRITE {pwm} 256", {"ok": 0, "cmd": "PWM_WRITE", "error": "bad_args", "arg": "duty"}),
    (b"PWM_WRITE {pwm} 99999999999999", {"ok": 0, "cmd": "PWM_WRITE", "error": "bad_args", "arg": "duty"}),
    (b"ANALOG_READ A9", {"ok": 0, "cmd": "ANALOG_READ", "error": "bad_pin", "arg": "pin"}),
    (b"ANALOG_READ 13", {"ok": 0, "cmd": "ANALOG_READ", "error": "bad_pin", "arg": "pin"}),
    (b"DHT_READ {dht} dht33", {"ok": 0, "cmd": "DHT_READ", "error": "bad_args", "arg": "model"}),
    (b"GPIO_READ {in} " + b"u" * 40, {"ok": 0, "cmd": "GPIO_READ", "error": "bad_args", "arg": "pull"}),
    (b"A" * 65, {"ok": 0, "cmd": "", "error": "line_too_long"}),
    (b"PING " + b" " * 200, {"ok": 0, "cmd": "", "error": "line_too_long"}),
    (b"\x00\x01\xff\xfe garbage \x1b[2J", {"ok": 0, "cmd": "", "error": "bad_request"}),  # frames are off
    (b'"}{\\', {"ok": 0, "cmd": "", "error": "bad_request"}),  # no request needs '"' or '\\'
    (b"\t gpio_read \t {in} \t", {"ok": 1, "cmd": "GPIO_READ", "pin": "{in}", "value": 0}),
]


@pytest.fixture(params=targets.PARAMS)
def target(request: pytest.FixtureRequest) -> Iterator[targets.Target]:
    def uno() -> Iterator[tuple[SimBoard, BoardClient]]:
        for board in start_board(request.getfixturevalue("project"), "uno"):
            yield board.sim, board.client
    yield from targets.start(request, uno)


def test_bad_input_is_answered_and_never_breaks_the_board(target: targets.Target) -> None:
    """The same refusals on every board ({pwm}, {dht} and {in} are the board's pins)."""
    pins = {"pwm": target.pwm_pin, "dht": target.dht_pin, "in": target.in_pin}
    restarts = target.restarts()
    for line, reply in BAD_LINES:
        request = line.replace(b"{pwm}", b"%d" % pins["pwm"]).replace(b"{dht}", b"%d" % pins["dht"])
        request = request.replace(b"{in}", b"%d" % pins["in"])
        expected = {key: pins["in"] if value == "{in}" else value for key, value in reply.items()}
        assert _raw(target.client, request) == expected, request
    assert target.client.request("PING")["ok"] == 1
    assert target.restarts() == restarts


def _raw(client: BoardClient, line: bytes) -> dict[str, Any]:
    """Send raw bytes (not necessarily ASCII) as one request line."""
    client.drain()
    client.link.write(line + b"\n")
    return client.read_reply(repr(line), 3.0)


def test_garbage_bursts_without_newlines_then_a_good_line(target: targets.Target) -> None:
    client, restarts = target.client, target.restarts()
    rng = __import__("random").Random(7)
    burst = bytes(rng.choice([b for b in range(256) if b != 10]) for _ in range(3000))
    client.link.write(burst)
    client.link.write(b"\n")
    assert client.read_reply("burst", 5.0) == {"ok": 0, "cmd": "", "error": "line_too_long"}
    client.link.write(bytes(rng.randrange(256) for _ in range(2000)) + b"\n@99 PING\n")
    while client.read_reply("@99 PING", 5.0).get("id") != 99:  # the refusals of the garbage's lines
        pass
    assert client.request("PING") == {"ok": 1, "cmd": "PING"}
    assert client.request("INFO")["ok"] == 1
    assert target.restarts() == restarts


def test_mega_runs_its_own_selection(project: Path) -> None:
    for mega in start_board(project, "simmega"):
        info = mega.client.info()
        assert (info.board, info.capabilities) == ("arduino_mega2560", ["gpio_read", "gpio_write"])
        mega.ask("GPIO_WRITE 13 1")
        mega.sim.wait_for_pin("PB7", 1, timeout=2)    # D13 is PB7 on the Mega
        assert mega.ask("ANALOG_READ A0")["error"] == "unknown_command"
        # gpio_read finds a port's three registers from its PINx (gpio_read_avr.cpp): ports of the
        # low I/O space and of the extended one (PK, PL from 0x106).
        for pin, port in ((22, "PA0"), (62, "PK0"), (49, "PL0"), (42, "PL7")):
            for level in (1, 0):
                mega.sim.set_pin(port, level)
                assert mega.ask(f"GPIO_READ {pin}")["value"] == level, (pin, level)


# ---- the pio targets ---------------------------------------------------------------------

def probe_with_port(project: Path, env: str, port: str) -> helpers.PioResult:
    """`pio run -e ENV -t probe --upload-port PORT`, PORT being the simulated board's."""
    return helpers.run_pio(project, "run", "-e", env, "-t", "probe", "--upload-port", port, timeout=120)


def test_probe_says_the_board_runs_this_env(project: Path) -> None:
    with simulated(project, "uno") as sim:
        result = probe_with_port(project, "uno", sim.serial_port)
    assert result.returncode == 0, result.output
    assert f"probe: the board runs env 'uno' exactly (hash {stamp(project, 'uno').identity.hash})" in result.output


def test_probe_says_exactly_what_differs(project: Path) -> None:
    with simulated(project, "simmega") as sim:
        result = probe_with_port(project, "uno", sim.serial_port)
    assert result.returncode != 0
    assert "probe: the board does NOT run env 'uno'" in result.output
    assert "board: board has arduino_mega2560, this env builds arduino_uno" in result.output
    assert (f"hash: board has {stamp(project, 'simmega').identity.hash}, this env builds "
            f"{stamp(project, 'uno').identity.hash}") in result.output
    assert "capabilities missing on the board: analog_read, dht_read, pwm_write, relay_set" \
        in result.output
    assert "Traceback" not in result.output


def test_probe_with_no_board_answering_is_a_clear_error(project: Path) -> None:
    master, slave = os.openpty()
    try:
        result = probe_with_port(project, "uno", os.ttyname(slave))
    finally:
        os.close(master)
        os.close(slave)
    assert result.returncode != 0
    assert "did not answer PING" in result.output and "Traceback" not in result.output


def test_simulate_target_serves_the_firmware_until_ctrl_c(project: Path) -> None:
    proc = subprocess.Popen([helpers.PIO, "run", "-e", "uno", "-t", "simulate"], cwd=project,
                            env=helpers.pio_environ(project), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        port = helpers.printed_serial_port(proc)
        with serial.Serial(port, 115200, timeout=3) as link:
            link.write(b"PING\n")
            assert link.readline() == b'{"ok":1,"cmd":"PING"}\n'
            link.write(b"GPIO_WRITE 13 1\n")
            link.readline()
        while proc.stdout.readline() != "simulate: pin 13 (PB5) -> 1\n":  # shown live to the user
            assert time.monotonic() < deadline
        board = _board_processes(project)
        assert len(board) == 1
        os.killpg(proc.pid, signal.SIGINT)
        output = proc.communicate(timeout=30)[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert "simulate: stopped" in output and "Traceback" not in output
    assert _board_processes(project) == []


def _board_processes(project: Path) -> list[str]:
    """PIDs of simulated boards running this project's firmware."""
    found = subprocess.run(["pgrep", "-f", f"avr_board .*{project}"], capture_output=True, text=True)
    return found.stdout.split()


def test_client_reaches_a_board_over_tcp(uno: Board) -> None:
    """socket://HOST:PORT works like a serial port (the wifi_tcp transport): a loopback relay
    carries the bytes between a TCP client and the simulated board's UART."""
    import socket
    import threading

    from generator.host.client import BoardClient

    server = socket.create_server(("127.0.0.1", 0))
    pty = serial.Serial(uno.sim.serial_port, 115200, timeout=0.05)

    def relay() -> None:
        conn, _ = server.accept()
        conn.settimeout(0.05)
        with conn:
            for _ in range(400):   # bounded: at most ~20 s
                try:
                    data = conn.recv(256)
                    if not data:
                        return
                    pty.write(data)
                except TimeoutError:
                    pass
                answer = pty.read(256)
                if answer:
                    conn.sendall(answer)

    thread = threading.Thread(target=relay, daemon=True)
    thread.start()
    uno.client.link.close()  # the relay owns the board's serial port now
    try:
        with BoardClient(f"socket://127.0.0.1:{server.getsockname()[1]}", 115200, timeout=3) as client:
            assert client.request("PING") == {"ok": 1, "cmd": "PING"}
            assert client.info().board == "arduino_uno"
    finally:
        server.close()
        thread.join(timeout=25)
        pty.close()
