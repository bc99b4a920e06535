"""The simulated board (sim/avr_board.c, built as sim/build/avr_board) and its Python driver, on
sketches compiled here."""
from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import serial

from generator.boards import BoardFacts, board_facts
from generator.errors import FirmwareError
from generator.paths import ROOT, SIM_BINARY, SIM_DIR
from generator.sim.board import (
    HaltEvent,
    LatencyEvent,
    PinEvent,
    ResetEvent,
    SimBoard,
)
from testsupport import helpers

BAUD = 115200


@dataclass(frozen=True)
class Board:
    """A board to build test sketches for (its Arduino IDE fqbn) and to simulate (its facts)."""

    fqbn: str
    facts: BoardFacts

    @property
    def mcu(self) -> str:
        return self.facts.simulated().mcu

    @property
    def led(self) -> str:
        """The port pin of Arduino pin 13."""
        return self.facts.simulated().ports[13]

    @property
    def input(self) -> str:
        """The port pin of Arduino pin 2."""
        return self.facts.simulated().ports[2]


UNO = Board("arduino:avr:uno", board_facts("arduino_uno"))
MEGA = Board("arduino:avr:mega:cpu=atmega2560", board_facts("arduino_mega2560"))
FREQ = UNO.facts.f_cpu
assert MEGA.facts.f_cpu == FREQ

# Every sketch defines setup() and handle(line); this loop feeds it the lines read on Serial.
LINE_LOOP = r"""
char line[32];
uint8_t len;
void loop() {
  while (Serial.available()) {
    char c = Serial.read();
    if (c == '\n') { line[len] = 0; handle(line); len = 0; }
    else if (len < sizeof(line) - 1) line[len++] = c;
  }
}
"""

IO_SKETCH = r"""
void setup() { Serial.begin(115200); pinMode(13, OUTPUT); pinMode(2, INPUT); }
void handle(const char *cmd) {
  if (!strcmp(cmd, "ping")) Serial.println("pong");
  else if (!strcmp(cmd, "led1")) { digitalWrite(13, HIGH); Serial.println("ok"); }
  else if (!strcmp(cmd, "led0")) { digitalWrite(13, LOW); Serial.println("ok"); }
  else if (!strcmp(cmd, "in")) Serial.println(digitalRead(2));
  else if (!strcmp(cmd, "pullup")) { pinMode(2, INPUT_PULLUP); Serial.println("ok"); }
  else if (cmd[0] == 'a') Serial.println(analogRead(A0 + atoi(cmd + 1)));
  else Serial.println("?");
}
"""

PWM_SKETCH = r"""
void setup() { Serial.begin(115200); }
void handle(const char *cmd) {  // "PIN VALUE": analogWrite(PIN, VALUE)
  char *rest;
  int pin = strtol(cmd, &rest, 10);
  analogWrite(pin, atoi(rest));
  Serial.println("ok");
}
"""

RESTART_SKETCH = r"""
#include <avr/sleep.h>
#include <avr/wdt.h>
void setup() { MCUSR = 0; wdt_disable(); Serial.begin(115200); Serial.println("boot"); }
void handle(const char *cmd) {
  Serial.flush();
  if (!strcmp(cmd, "hang")) { wdt_enable(WDTO_15MS); for (;;) {} }  // the watchdog resets
  if (!strcmp(cmd, "halt")) { cli(); sleep_enable(); sleep_cpu(); }  // never wakes up
}
"""

DHT_SKETCH = r"""
const int DHT_PIN = 2;
void setup() { Serial.begin(115200); }
// Time in us the line stayed at `level`, or -1 if longer than `limit`.
long waitWhile(int level, unsigned long limit) {
  unsigned long start = micros();
  while (digitalRead(DHT_PIN) == level)
    if (micros() - start > limit) return -1;
  return micros() - start;
}
// 0 and the 5 data bytes, or the step that timed out (1: no answer) or 6: bad checksum.
int readDht(bool dht11, uint8_t data[5]) {
  pinMode(DHT_PIN, OUTPUT);
  digitalWrite(DHT_PIN, LOW);
  if (dht11) delay(20); else delayMicroseconds(1100);
  pinMode(DHT_PIN, INPUT_PULLUP);
  if (waitWhile(HIGH, 100) < 0) return 1;
  if (waitWhile(LOW, 120) < 0) return 2;
  if (waitWhile(HIGH, 120) < 0) return 3;
  for (int i = 0; i < 40; i++) {
    if (waitWhile(LOW, 100) < 0) return 4;
    long high = waitWhile(HIGH, 120);
    if (high < 0) return 5;
    data[i / 8] = (data[i / 8] << 1) | (high > 45);
  }
  return (uint8_t)(data[0] + data[1] + data[2] + data[3]) == data[4] ? 0 : 6;
}
void handle(const char *cmd) {  // "d22" or "d11": read the sensor, print T=.. H=.. or E<step>
  bool dht11 = !strcmp(cmd, "d11");
  uint8_t d[5] = {0};
  int err = readDht(dht11, d);
  if (err) { Serial.print("E"); Serial.println(err); return; }
  float h, t;
  if (dht11) { h = d[0] + d[1] / 10.0; t = d[2] + d[3] / 10.0; }
  else {
    h = ((d[0] << 8) | d[1]) / 10.0;
    t = (((d[2] & 0x7f) << 8) | d[3]) / 10.0;
    if (d[2] & 0x80) t = -t;
  }
  Serial.print("T="); Serial.print(t, 1); Serial.print(" H="); Serial.println(h, 1);
}
"""

# Brings its own loop(): sends back every byte it receives.
ECHO_SKETCH = r"""
void setup() { Serial.begin(115200); }
void loop() { while (Serial.available()) Serial.write(Serial.read()); }
"""

# For each byte received: 'A' and 'B' written to UDR0 back to back, then UCSR0A as read after
# each of those writes (the USART driven by its registers, without the core's Serial).
UDR_SKETCH = r"""
void setup() {
  UBRR0H = 0;
  UBRR0L = 16;  // 115200 baud at 16 MHz with U2X
  UCSR0A = _BV(U2X0);
  UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
  UCSR0B = _BV(RXEN0) | _BV(TXEN0);
}
void loop() {
  if (!(UCSR0A & _BV(RXC0))) return;
  (void)UDR0;
  // The last byte of the previous answer may still be shifting out when the next 'x' arrives: a
  // loaded machine slows the simulated clock, and the host's answer then takes less simulated
  // time than a byte (87 us). Past one byte time the transmitter is idle, whatever the load.
  delayMicroseconds(200);
  UDR0 = 'A';
  const uint8_t after_one = UCSR0A;
  UDR0 = 'B';
  const uint8_t after_two = UCSR0A;
  while (!(UCSR0A & _BV(UDRE0))) {}
  UDR0 = after_one;
  while (!(UCSR0A & _BV(UDRE0))) {}
  UDR0 = after_two;
}
"""

SKETCHES = {
    "io": IO_SKETCH, "pwm": PWM_SKETCH, "restart": RESTART_SKETCH, "dht": DHT_SKETCH,
    "echo": ECHO_SKETCH, "udr": UDR_SKETCH,
}
BUILDS = [
    ("io", UNO), ("io", MEGA), ("pwm", UNO), ("pwm", MEGA), ("restart", UNO), ("dht", UNO),
    ("echo", UNO), ("udr", UNO),
]


def compile_sketch(name: str, board: Board, root: Path) -> Path:
    """Build one sketch with arduino-builder; the ELF it produced."""
    sketch = root / board.mcu / name / f"{name}.ino"
    sketch.parent.mkdir(parents=True)
    source = SKETCHES[name]
    sketch.write_text(source if "void loop()" in source else source + LINE_LOOP)
    out = root / board.mcu / f"{name}-build"
    result = helpers.arduino_builder(sketch, board.fqbn, out)
    assert result.returncode == 0, result.stdout + result.stderr
    return out / f"{name}.ino.elf"


@pytest.fixture(scope="session")
def firmware(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, Board], Path]:
    """Every test sketch compiled once per session, and the board binary built."""
    make = subprocess.run(["make", "-C", str(ROOT / "sim")], capture_output=True, text=True)
    assert make.returncode == 0, make.stdout + make.stderr
    root = tmp_path_factory.mktemp("sketches")
    with ThreadPoolExecutor() as pool:
        elves = pool.map(lambda build: compile_sketch(*build, root), BUILDS)
        return dict(zip(BUILDS, elves, strict=True))


@contextlib.contextmanager
def running(elf: Path, board: Board, **options: bool) -> Iterator[tuple[SimBoard, serial.Serial]]:
    """A started board with its serial port open before the MCU runs its first cycle."""
    with SimBoard(elf, board.mcu, FREQ, paused=True, **options) as sim:
        with serial.Serial(sim.serial_port, BAUD, timeout=5) as port:
            sim.run()
            yield sim, port


def ask(port: serial.Serial, line: str) -> str:
    """Send a line to the sketch and return the line it answers."""
    port.write(line.encode() + b"\n")
    reply = port.readline().decode()
    assert reply.endswith("\n"), f"no answer to {line!r}, got {reply!r}"
    return reply.strip()


def test_serial_round_trip_and_reply_latency(firmware: dict[tuple[str, Board], Path]) -> None:
    with running(firmware["io", UNO], UNO, latency=True) as (sim, port):
        latencies = []
        for _ in range(5):
            since = sim.mark()
            assert ask(port, "ping") == "pong"
            latencies.append(sim.wait_for(LatencyEvent, since=since).cycles)
        # the sketch answers within a few hundred cycles, far below one byte time (~1500);
        # the figure moves with where the firmware's loop is when the request arrives
        assert all(0 < cycles < 2000 for cycles in latencies), latencies


def test_udr_is_a_buffer_in_front_of_the_shift_register(firmware: dict[tuple[str, Board], Path]) -> None:
    """As on the chip (datasheet, USART "Sending Frames"): a byte written to an idle transmitter
    moves on to the shift register at once and UDRE0 is set again; a second byte then fills the
    buffer, and UDRE0 stays clear until the first has left (simavr 1.6 alone kept it clear after
    the first)."""
    udre = 1 << 5
    with running(firmware["udr", UNO], UNO) as (_, port):
        for _ in range(3):
            port.write(b"x")
            sent = port.read(4)
            assert sent[:2] == b"AB", sent
            assert sent[2] & udre and not sent[3] & udre, sent.hex(" ")


def test_burst_larger_than_the_board_fifo_does_not_stop_the_serial_port(
    firmware: dict[tuple[str, Board], Path],
) -> None:
    # a pty has no baud rate: the whole burst arrives at once, more than the board's 4 KiB FIFO
    # holds, and the firmware takes it one byte time apart
    burst = (bytes(b for b in range(256) if b != ord("\n")) * 20)[:5000]
    with running(firmware["io", UNO], UNO) as (sim, port):
        port.write(burst + b"\n")
        assert port.readline() == b"?\r\n"  # its first 31 bytes are no command
        assert ask(port, "ping") == "pong"
        assert ask(port, "ping") == "pong"


def test_echo_returns_a_long_burst_intact_and_in_order(
    firmware: dict[tuple[str, Board], Path],
) -> None:
    data = bytes(range(256)) * 12
    with running(firmware["echo", UNO], UNO) as (sim, port):
        port.write(data)
        assert port.read(len(data)) == data
        port.write(b"again")
        assert port.read(5) == b"again"


@pytest.mark.parametrize("board", [UNO, MEGA], ids=["uno", "mega"])
def test_output_pin_changes_are_reported_in_cycle_order(
    firmware: dict[tuple[str, Board], Path], board: Board
) -> None:
    with running(firmware["io", board], board) as (sim, port):
        assert ask(port, "led1") == "ok"
        high = sim.wait_for_pin(board.led, 1)
        assert ask(port, "led0") == "ok"
        low = sim.wait_for_pin(board.led, 0)
        changes = [event for event in sim.events if isinstance(event, PinEvent)]
        assert [(e.pin, e.level) for e in changes] == [(board.led, 0), (board.led, 1), (board.led, 0)]
        assert changes[0].cycle < high.cycle < low.cycle
        assert sim.read_pin(board.led) == ("out", 0)


@pytest.mark.parametrize("board", [UNO, MEGA], ids=["uno", "mega"])
def test_driven_inputs_are_read_by_the_firmware(
    firmware: dict[tuple[str, Board], Path], board: Board
) -> None:
    with running(firmware["io", board], board) as (sim, port):
        assert ask(port, "in") == "0"  # nothing connected, no pull-up
        sim.set_pin(board.input, 1)
        assert ask(port, "in") == "1"
        sim.set_pin(board.input, 0)
        assert ask(port, "in") == "0"
        assert sim.read_pin(board.input) == ("in", 0)
        sim.release_pin(board.input)  # the line keeps its external pull-up
        assert ask(port, "in") == "1"
        sim.set_pin(board.input, 0)
        assert ask(port, "pullup") == "ok"
        assert ask(port, "in") == "0"  # driven low beats the internal pull-up


@pytest.mark.parametrize("board", [UNO, MEGA], ids=["uno", "mega"])
@pytest.mark.parametrize("channel", [0, 5])
def test_adc_reads_the_simulated_voltage(
    firmware: dict[tuple[str, Board], Path], board: Board, channel: int
) -> None:
    with running(firmware["io", board], board) as (sim, port):
        for millivolts in (0, 1234, 2500, 3300, 5000):
            sim.set_adc(channel, millivolts)
            value = int(ask(port, f"a{channel}"))
            assert abs(value - millivolts * 1023 / 5000) <= 1, (millivolts, value)


@pytest.mark.parametrize(
    "board, pin, port_pin, period",
    [
        (UNO, 9, "PB1", 32640),   # Timer1, 8-bit phase correct: 490 Hz
        (UNO, 3, "PD3", 32640),   # Timer2, phase correct
        (UNO, 6, "PD6", 16384),   # Timer0, fast PWM: 977 Hz
        (MEGA, 9, "PH6", 32640),  # Timer2
        (MEGA, 4, "PG5", 16384),  # Timer0
        (MEGA, 44, "PL5", 32640),  # Timer5
    ],
    ids=["uno-9", "uno-3", "uno-6", "mega-9", "mega-4", "mega-44"],
)
def test_analog_write_duty_cycle(
    firmware: dict[tuple[str, Board], Path], board: Board, pin: int, port_pin: str, period: int
) -> None:
    with running(firmware["pwm", board], board) as (sim, port):
        for value in (128, 32):
            since = sim.mark()
            assert ask(port, f"{pin} {value}") == "ok"
            pwm = sim.wait_for_pwm(port_pin, since=since)
            assert pwm.period == period
            assert abs(pwm.duty - value / 255) <= 1 / 255, pwm
        assert sim.pin_level(port_pin) is None  # running PWM, not a level
        assert ask(port, f"{pin} 255") == "ok"  # analogWrite(255) is digitalWrite(HIGH)
        sim.wait_for_pin(port_pin, 1)
        assert ask(port, f"{pin} 0") == "ok"
        sim.wait_for_pin(port_pin, 0)


def test_watchdog_and_reset_command_restart_the_firmware(
    firmware: dict[tuple[str, Board], Path],
) -> None:
    with running(firmware["restart", UNO], UNO) as (sim, port):
        assert port.readline() == b"boot\r\n"
        port.write(b"hang\n")
        watchdog = sim.wait_for(ResetEvent)
        assert port.readline() == b"boot\r\n"
        since = sim.mark()
        sim.reset()
        button = sim.wait_for(ResetEvent, since=since)
        assert port.readline() == b"boot\r\n"
        # the firmware hangs about 15 ms (240,000 cycles) before the watchdog bites
        assert 200_000 < watchdog.cycle < button.cycle < sim.cycles()


def test_halted_firmware_is_reported_and_restarts_on_reset(
    firmware: dict[tuple[str, Board], Path],
) -> None:
    with running(firmware["restart", UNO], UNO) as (sim, port):
        assert port.readline() == b"boot\r\n"
        port.write(b"halt\n")
        assert sim.wait_for(HaltEvent).reason == "done"
        halted_at = sim.cycles()
        time.sleep(0.1)
        assert sim.cycles() == halted_at  # the core is stopped, commands still answer
        sim.reset()
        assert port.readline() == b"boot\r\n"


@pytest.mark.parametrize(
    "model, command, temperature, humidity, expected",
    [
        ("dht22", "d22", 23.5, 45.0, "T=23.5 H=45.0"),
        ("dht22", "d22", -12.3, 67.8, "T=-12.3 H=67.8"),
        ("dht11", "d11", 23.5, 45, "T=23.5 H=45.0"),
        ("dht11", "d11", 31, 60, "T=31.0 H=60.0"),
    ],
)
def test_dht_sensor_answers_configured_values(
    firmware: dict[tuple[str, Board], Path],
    model: str, command: str, temperature: float, humidity: float, expected: str,
) -> None:
    with running(firmware["dht", UNO], UNO) as (sim, port):
        sim.attach_dht("PD2", model, temperature, humidity)
        assert ask(port, command) == expected
        assert ask(port, command) == expected  # and again: the sensor re-arms


def test_dht_line_without_sensor_times_out(firmware: dict[tuple[str, Board], Path]) -> None:
    with running(firmware["dht", UNO], UNO) as (sim, port):
        assert ask(port, "d22") == "E1"
        sim.attach_dht("PD2", "dht22", 20, 50)
        assert ask(port, "d22") == "T=20.0 H=50.0"
        sim.detach_dht("PD2")
        assert ask(port, "d22") == "E1"


@pytest.mark.parametrize(
    "command, message",
    [
        ("bogus", "unknown command"),
        ("set PZ1 1", "unknown pin"),
        ("set PB8 1", "unknown pin"),
        ("set PB1 2", "level must be 0 or 1"),
        ("adc 8 100", "channel must be 0..7"),
        ("adc 0 6000", "millivolts must be 0..5000"),
        ("dht PD2 dht33 20 50", "model must be dht22 or dht11"),
        ("dht PD2 dht11 -5 50", "DHT11 temperature must be 0..50"),
        ("dht PD2 dht22 20 150", "humidity must be 0..100"),
        ("dht PD2 dht22 warm 50", "temperature and humidity must be numbers"),
        ("cycles now", "usage: cycles"),
        ("x" * 300, "line too long"),
    ],
)
def test_bad_control_commands_are_refused(
    firmware: dict[tuple[str, Board], Path], command: str, message: str
) -> None:
    with SimBoard(firmware["io", UNO], UNO.mcu, FREQ) as sim:
        with pytest.raises(FirmwareError, match=message):
            sim.command(command)
        assert sim.cycles() > 0  # still answering


def test_missing_board_binary_says_how_to_build_it(
    firmware: dict[tuple[str, Board], Path], tmp_path: Path
) -> None:
    with pytest.raises(FirmwareError) as error:
        SimBoard(firmware["io", UNO], UNO.mcu, FREQ, binary=tmp_path / "avr_board").start()
    assert f"make -C {SIM_DIR}" in str(error.value)


def test_file_that_is_not_firmware_is_refused(tmp_path: Path) -> None:
    elf = tmp_path / "sketch.elf"
    elf.write_text("not an ELF")
    with pytest.raises(FirmwareError, match="did not start") as error:
        SimBoard(elf, UNO.mcu, FREQ).start()
    assert "no AVR program" in str(error.value)


@pytest.mark.parametrize("how", ["quit", "eof", "sigint", "sigterm"])
def test_board_exits_cleanly_and_closes_the_pty(
    firmware: dict[tuple[str, Board], Path], how: str
) -> None:
    proc = subprocess.Popen(
        [str(SIM_BINARY), "--mcu", UNO.mcu, "--freq", str(FREQ), str(firmware["io", UNO])],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("serial: /dev/pts/")
    with serial.Serial(first.split()[1], BAUD, timeout=5) as port:
        assert ask(port, "ping") == "pong"
        if how == "quit":
            proc.stdin.write("quit\n")
            proc.stdin.flush()
        elif how == "eof":
            proc.stdin.close()
        else:
            proc.send_signal(signal.SIGINT if how == "sigint" else signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
        with pytest.raises(serial.SerialException):
            port.write(b"ping\n")
            port.read(1)


def test_realtime_never_runs_ahead_of_the_board_clock(firmware: dict[tuple[str, Board], Path]) -> None:
    """Paced to real time: since it was started it has run no more cycles than the board would
    have in that time (give or take one batch). A loaded machine only slows it down (and catching up never takes it past
    the clock), so this holds under any load; how close it comes to the clock is not asserted."""
    launched = time.monotonic()
    with SimBoard(firmware["io", UNO], UNO.mcu, FREQ, realtime=True) as sim:
        time.sleep(1.0)
        # + 10 ms: it runs a batch of instructions before each pacing sleep (sim/avr_board.c, pace)
        assert sim.cycles() <= FREQ * (time.monotonic() - launched + 0.01)
