"""`pio run -t simulate`: run an env's firmware on the simulated board until the user stops it."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from .definitions import Definitions
from .errors import FirmwareError
from .resolve import find_board
from .selection import Selection
from .simboard import PinEvent, SimBoard


def simulator_of(definitions: Path, board_id: str) -> dict[str, Any]:
    """The board definition (by id or PlatformIO board id), which must say how to simulate it."""
    board = find_board(Definitions(definitions), Selection(transport="", board=board_id))
    if "simulator" not in board:
        raise FirmwareError(f"board '{board_id}' cannot be simulated",
                            "only AVR boards whose definition has a 'simulator' section can")
    return board


def simulate(definitions: Path, board_id: str, elf: Path, baud: int,
             say: Callable[[str], None] = lambda text: print(text, flush=True)) -> None:
    """Run `elf` in real time, print its serial port and its pin changes, stop on Ctrl-C."""
    board = simulator_of(definitions, board_id)
    pins = {port: number for number, port in enumerate(board["simulator"]["ports"])}
    with SimBoard(elf, board["simulator"]["mcu"], board["f_cpu"], realtime=True) as sim:
        say(f"serial: {sim.serial_port}")
        say(f"simulate: {board['name']} runs {elf.name}; talk to it with "
            f"`pio device monitor -p {sim.serial_port} -b {baud}`; Ctrl-C stops")
        seen = 0
        try:
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
