"""`pio run -t simulate`: run an env's firmware on the simulated board until the user stops it."""
from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from generator.boards import BoardFacts, board_facts
from generator.errors import FirmwareError
from generator.sim.binary import build_simulator
from generator.sim.board import PinEvent, board_simulator


@contextmanager
def terminal_foreground() -> Iterator[None]:
    """Be the terminal's foreground job while running, as a shell's job is, so that Ctrl-C
    reaches the simulation only: PlatformIO and SCons, which run it, would count a Ctrl-C they
    received as a failure (VS Code's task shows status 1). Without a terminal: nothing to do."""
    try:
        tty = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        yield
        return
    try:
        before = os.tcgetpgrp(tty)
        os.setpgid(0, 0)
        ignored = signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # a background job may take over
        os.tcsetpgrp(tty, os.getpgrp())
    except OSError:
        os.close(tty)
        yield
        return
    try:
        yield
    finally:
        try:
            os.tcsetpgrp(tty, before)
        except OSError:
            pass  # the terminal is gone: nobody to give it back to
        signal.signal(signal.SIGTTOU, ignored)
        os.close(tty)


def serial_uart(board: BoardFacts, serial_port: str) -> str:
    """The USART a board's simulator bridges to the pty: `serial_port` (custom_firmware_serial_port)
    checked against the board definition's uarts, else the definition's default serial port."""
    names = board.uarts
    if not serial_port:
        return board.serial_port
    if serial_port.upper() not in names:
        raise FirmwareError(f"board '{board.id}' has no serial port '{serial_port}' to simulate",
                            f"custom_firmware_serial_port / --serial-port: one of {', '.join(names) or 'none'}")
    return serial_port.upper()


def simulate(definitions: Path, board_id: str, elf: Path, baud: int, serial_port: str = "",
             say: Callable[[str], None] = lambda text: print(text, flush=True)) -> None:
    """Build the simulated board if needed, run `elf` on it in real time, print its serial port
    and its pin changes, stop on Ctrl-C."""
    board = board_facts(board_id, definitions)
    simulation = board.simulated()
    if simulation.engine == "simavr":
        build_simulator(say)
    uart = serial_uart(board, serial_port) if simulation.engine == "ch32v" else ""
    pins = {port: number for number, port in enumerate(simulation.ports)}
    try:  # a Ctrl-C at any moment, even while a line is printed, is the normal way to stop
        with terminal_foreground(), board_simulator(elf, board, serial=uart, realtime=True) as sim:
            say(f"serial: {sim.serial_port}")
            on = f" on {uart}" if uart else ""
            say(f"simulate: {board.name} runs {elf.name}{on}; talk to it with "
                f"`pio device monitor -p {sim.serial_port} -b {baud}`; Ctrl-C stops")
            seen = 0
            while sim.returncode is None:
                time.sleep(0.1)
                events = sim.events
                for event in events[seen:]:
                    if isinstance(event, PinEvent) and event.pin in pins:
                        say(f"simulate: pin {pins[event.pin]} ({event.pin}) -> {event.level}")
                seen = len(events)
    except KeyboardInterrupt:
        say("simulate: stopped")
        return
    raise FirmwareError("the simulated board stopped by itself", "see the messages above")
