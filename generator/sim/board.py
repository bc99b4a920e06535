"""Run firmware on the simulated AVR board (`sim/build/avr_board`) and drive it from Python.

The board speaks port pin names (``PB5``) only; mapping Arduino pin numbers to ports is the
caller's business. The control protocol is described in ``sim/README.md``.
"""
from __future__ import annotations

import collections
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from generator.boards import BoardFacts
from generator.errors import FirmwareError
from generator.paths import PACKAGE, SIM_BINARY
from generator.sim.binary import BUILD_HINT

SEND_PIECE = 100  # bytes per `send` command: 200 hex digits, well within the board's line length


@dataclass(frozen=True)
class PinEvent:
    """An output pin driven by the MCU changed level."""

    pin: str
    level: int
    cycle: int


@dataclass(frozen=True)
class PwmEvent:
    """A timer PWM output on a pin started or changed: high `high` cycles out of `period`."""

    pin: str
    high: int
    period: int
    cycle: int

    @property
    def duty(self) -> float:
        """Fraction of the period the pin is high."""
        return self.high / self.period


@dataclass(frozen=True)
class ResetEvent:
    """The MCU was reset (watchdog or the `reset` command)."""

    cycle: int


@dataclass(frozen=True)
class LatencyEvent:
    """Cycles from the end of the last received byte (a request's newline, a frame's CRC) to the
    MCU's next transmitted byte."""

    cycles: int
    cycle: int


@dataclass(frozen=True)
class StepEvent:
    """A `step` ended: the board paused at `cycle`, UART0 having sent `sent` bytes since the start."""

    sent: int
    cycle: int


@dataclass(frozen=True)
class HaltEvent:
    """The firmware stopped the core: `reason` is "done" or "crashed"."""

    reason: str
    cycle: int


@dataclass(frozen=True)
class UartEvent:
    """With `uart_trace` (CH32V): the USART sent `byte` from cycle `start` to `cycle` (its stop bit's end)."""

    uart: str
    byte: int
    start: int
    cycle: int


@dataclass(frozen=True)
class UnmodelledEvent:
    """The firmware touched a peripheral the simulator does not model (reported once per block)."""

    block: str
    address: int
    cycle: int


@dataclass(frozen=True)
class ClockEvent:
    """(CH32V) The CPU clock the firmware's RCC settings select, in Hz: at reset, then each change.
    The simulation counts time at the board's f_cpu whatever this says."""

    hz: int
    cycle: int


Event = (PinEvent | PwmEvent | ResetEvent | LatencyEvent | StepEvent | HaltEvent | UartEvent | UnmodelledEvent
         | ClockEvent)
E = TypeVar("E", PinEvent, PwmEvent, ResetEvent, LatencyEvent, StepEvent, HaltEvent, UartEvent, UnmodelledEvent,
              ClockEvent)
T = TypeVar("T")


def parse_event(line: str) -> Event | None:
    """The event an output line of the board reports, or None if it is not an event."""
    words = line.split()
    if len(words) < 2 or not words[-1].startswith("@"):
        return None
    kind, args, cycle = words[0], words[1:-1], int(words[-1][1:])
    if kind == "pin":
        return PinEvent(args[0], int(args[1]), cycle)
    if kind == "pwm":
        return PwmEvent(args[0], int(args[1]), int(args[2]), cycle)
    if kind == "reset":
        return ResetEvent(cycle)
    if kind == "latency":
        return LatencyEvent(int(args[0]), cycle)
    if kind == "stepped":
        return StepEvent(int(args[0]), cycle)
    if kind == "halt":
        return HaltEvent(args[0], cycle)
    if kind == "uart":
        return UartEvent(args[0], int(args[1]), int(args[2]), cycle)
    if kind == "unmodelled":
        return UnmodelledEvent(args[0], int(args[1], 16), cycle)
    if kind == "clock":
        return ClockEvent(int(args[0]), cycle)
    return None


class SimBoard:
    """One simulated board process running an ELF; a context manager that stops it on exit.

    `paused` starts the MCU only on `run()`, so a serial port opened in between sees
    everything the firmware prints from reset on.
    """

    def __init__(
        self,
        elf: Path | str,
        mcu: str,
        freq: int,
        *,
        latency: bool = False,
        realtime: bool = False,
        paused: bool = False,
        binary: Path | str = SIM_BINARY,
        timeout: float = 10.0,
        engine: str = "simavr",
        serial: str = "",
        uart_trace: bool = False,
    ) -> None:
        self.elf = Path(elf)
        self.binary = Path(binary)
        self.engine = engine
        self.timeout = timeout
        self.serial_port = ""
        flags = {"--latency": latency, "--realtime": realtime, "--paused": paused, "--uart-trace": uart_trace}
        program = [sys.executable, "-m", "generator.sim.ch32v"] if engine == "ch32v" else [str(self.binary)]
        self._argv = [*program, "--mcu", mcu, "--freq", str(freq), *(["--serial", serial] if serial else [])]
        self._argv += [flag for flag, wanted in flags.items() if wanted] + [str(self.elf)]
        self._proc: subprocess.Popen[str] | None = None
        self._closed = False
        self._threads: list[threading.Thread] = []
        self._ready = threading.Event()
        self._replies: queue.Queue[str | None] = queue.Queue()
        self._command_lock = threading.Lock()
        self._cond = threading.Condition()
        self._events: list[Event] = []
        self._latest: dict[str, PinEvent | PwmEvent] = {}
        self._exited = False
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SimBoard:
        """Start the board process and wait for its serial port."""
        if self.engine == "simavr" and not self.binary.is_file():
            raise FirmwareError(f"the simulated board {self.binary} is not built", BUILD_HINT)
        if not self.elf.is_file():
            raise FirmwareError(f"no firmware at {self.elf}", "build the environment first")
        try:
            self._proc = subprocess.Popen(
                self._argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                bufsize=1,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(PACKAGE.parent), os.environ.get("PYTHONPATH", "")]))},
                start_new_session=True,  # Ctrl-C reaches the owner, which closes the board
            )
        except OSError as err:
            raise FirmwareError(f"cannot run the simulated board {self.binary}: {err}",
                                BUILD_HINT) from err
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        if not self._ready.wait(self.timeout) or not self.serial_port:
            self.close()
            raise FirmwareError(
                f"the simulated board did not start on {self.elf}", self._stderr_tail()
            )
        return self

    def close(self) -> None:
        """Stop the board (`quit`, then SIGTERM, then SIGKILL) and its reader threads."""
        proc = self._proc
        if proc is None or self._closed:
            return
        self._closed = True
        try:
            assert proc.stdin is not None
            proc.stdin.write("quit\n")
            proc.stdin.close()
        except OSError:
            pass
        for stop in (None, proc.terminate, proc.kill):
            if stop is not None:
                stop()
            try:
                proc.wait(timeout=5)
                break
            except subprocess.TimeoutExpired:
                pass
        for thread in self._threads:
            thread.join(timeout=5)

    @property
    def returncode(self) -> int | None:
        """Exit code of the board process once it has ended."""
        return self._proc.poll() if self._proc else None

    def __enter__(self) -> SimBoard:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ commands

    def command(self, line: str, timeout: float | None = None) -> list[str]:
        """Send one control command; return its reply lines once the board says `ok`."""
        proc = self._proc
        if proc is None or proc.stdin is None or self._closed:
            raise FirmwareError("the simulated board is not running", "call start() first")
        with self._command_lock:
            try:
                proc.stdin.write(line + "\n")
                proc.stdin.flush()
            except OSError as err:
                raise FirmwareError(
                    f"the simulated board stopped listening: {err}", self._stderr_tail()
                ) from err
            data: list[str] = []
            deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
            while True:
                try:
                    reply = self._replies.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise FirmwareError(f"the simulated board did not answer `{line}`") from None
                if reply is None:
                    raise FirmwareError(
                        f"the simulated board exited during `{line}`", self._stderr_tail()
                    )
                if reply.startswith("ok"):
                    return data
                if reply.startswith("error "):
                    raise FirmwareError(f"the simulated board refused `{line}`: {reply[6:]}")
                data.append(reply)

    def run(self) -> None:
        """Start the MCU of a board started with `paused`."""
        self.command("run")

    def reset(self) -> None:
        """Reset the MCU, like its reset button."""
        self.command("reset")

    def set_pin(self, pin: str, level: int | bool) -> None:
        """Drive an input pin to `level` from outside."""
        self.command(f"set {pin} {int(level)}")

    def release_pin(self, pin: str) -> None:
        """Stop driving a pin; it keeps an external pull-up and reads 1 when undriven."""
        self.command(f"release {pin}")

    def read_pin(self, pin: str) -> tuple[str, int]:
        """("out", driven level) for an output pin, ("in", level the MCU reads) for an input."""
        _, _, direction, level = self.command(f"get {pin}")[0].split()
        return direction, int(level)

    def set_adc(self, channel: int, millivolts: int) -> None:
        """Put `millivolts` on ADC channel `channel` (the board's reference is 5000 mV)."""
        self.command(f"adc {channel} {millivolts}")

    def attach_dht(self, pin: str, model: str, temperature: float, humidity: float) -> None:
        """Attach a DHT sensor ("dht22" or "dht11") answering these values on `pin`."""
        self.command(f"dht {pin} {model} {temperature} {humidity}")

    def detach_dht(self, pin: str) -> None:
        """Remove the DHT sensor; the line stays pulled up and nothing answers."""
        self.command(f"dht {pin} none")

    def send(self, data: bytes) -> None:
        """Queue bytes for UART0 at the current cycle, as if a host wrote them (lock-step hosts);
        in pieces that fit the board's command line."""
        for start in range(0, len(data), SEND_PIECE):
            self.command(f"send {data[start:start + SEND_PIECE].hex()}")

    def step(self, cycles: int, timeout: float | None = None) -> StepEvent:
        """Run `cycles` cycles of a paused board, then pause it again; the StepEvent says where."""
        since = self.mark()
        self.command(f"step {cycles}")
        return self.wait_for(StepEvent, since=since, timeout=timeout)

    def cycles(self) -> int:
        """Simulated CPU cycles since the board started."""
        return int(self.command("cycles")[0].split()[1])

    # ------------------------------------------------------------------ events

    @property
    def events(self) -> list[Event]:
        """Every event so far, oldest first."""
        with self._cond:
            return list(self._events)

    def mark(self) -> int:
        """A position in the event list, to wait only for events after it (`since`)."""
        with self._cond:
            return len(self._events)

    def pin_level(self, pin: str) -> int | None:
        """Last level reported for an output pin; None if never reported or running PWM."""
        with self._cond:
            latest = self._latest.get(pin)
        return latest.level if isinstance(latest, PinEvent) else None

    def wait_for(
        self,
        kind: type[E],
        *,
        since: int = 0,
        where: Callable[[E], bool] = lambda event: True,
        timeout: float | None = None,
    ) -> E:
        """The first event of `kind` after position `since` that `where` accepts."""
        scanned = since

        def find() -> E | None:
            nonlocal scanned
            for event in self._events[scanned:]:
                if isinstance(event, kind) and where(event):
                    return event
            scanned = max(scanned, len(self._events))
            return None

        return self._wait_until(find, f"a {kind.__name__}", timeout)

    def wait_for_pin(self, pin: str, level: int, timeout: float | None = None) -> PinEvent:
        """Wait until output pin `pin` is at `level`; the event that put it there."""

        def current() -> PinEvent | None:
            latest = self._latest.get(pin)
            return latest if isinstance(latest, PinEvent) and latest.level == level else None

        return self._wait_until(current, f"{pin} to be {level}", timeout)

    def wait_for_pwm(self, pin: str, *, since: int = 0, timeout: float | None = None) -> PwmEvent:
        """The first PWM report for `pin` after position `since`."""
        return self.wait_for(PwmEvent, since=since, where=lambda e: e.pin == pin, timeout=timeout)

    # ------------------------------------------------------------------ internals

    def _wait_until(self, check: Callable[[], T | None], what: str, timeout: float | None) -> T:
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        with self._cond:
            while (found := check()) is None:
                if self._exited:
                    raise FirmwareError(
                        f"the simulated board exited while waiting for {what}",
                        self._stderr_tail(),
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise FirmwareError(f"timed out after {limit:g} s waiting for {what}")
                self._cond.wait(remaining)
            return found

    def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for raw in self._proc.stdout:
            line = raw.strip()
            if line.startswith("serial: "):
                self.serial_port = line.split(maxsplit=1)[1]
                self._ready.set()
                continue
            event = parse_event(line)
            if event is None:
                self._replies.put(line)
                continue
            with self._cond:
                self._events.append(event)
                if isinstance(event, (PinEvent, PwmEvent)):
                    self._latest[event.pin] = event
                self._cond.notify_all()
        with self._cond:
            self._exited = True
            self._cond.notify_all()
        self._replies.put(None)
        self._ready.set()

    def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for line in self._proc.stderr:
            self._stderr.append(line.rstrip())

    def _stderr_tail(self) -> str:
        tail = "; ".join(line for line in self._stderr if line)
        return f"board output: {tail}" if tail else BUILD_HINT


def board_simulator(elf: Path | str, board: BoardFacts, serial: str = "", **options: Any) -> SimBoard:
    """The simulated board of a board definition running `elf` (its engine, MCU and clock);
    `serial` names the USART bridged to the pty where the board has several (CH32V)."""
    simulation = board.simulated()
    return SimBoard(elf, simulation.mcu, board.f_cpu, engine=simulation.engine, serial=serial, **options)
