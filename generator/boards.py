"""Facts about a board, read from its file in definitions/boards/: what flashing, probing,
simulating, the tests and the benchmark need to know about the hardware."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import FirmwareError
from generator.paths import DEFINITIONS


@dataclass(frozen=True)
class UsbSerial:
    """A USB-serial bridge a board is fitted with or used through."""

    vid: int
    pid: int
    name: str

    @property
    def usb_id(self) -> str:
        return f"{self.vid:04x}:{self.pid:04x}"


@dataclass(frozen=True)
class Simulation:
    """How the simulated board runs this board: the engine ("simavr" for AVR boards, "ch32v" for
    the Unicorn CH32V203), its MCU name, and the port pin of each Arduino pin number (index n is
    pin n)."""

    mcu: str
    ports: tuple[str, ...]
    engine: str = "simavr"


@dataclass(frozen=True)
class BoardFacts:
    """One board definition's hardware facts."""

    id: str
    name: str
    architecture: str
    mcu: str
    f_cpu: int
    flash_bytes: int
    analog_pins: tuple[int, ...]  # the pin numbers of A0, A1, ...
    usb_serial: tuple[UsbSerial, ...]
    simulation: Simulation | None
    not_simulated: str  # why the simulator cannot run it, when its definition says so
    serial_port: str = ""            # the UART the host is on by default (serial.port)
    uarts: tuple[str, ...] = ()      # every UART a transport may choose (uarts[].name)

    @classmethod
    def from_definition(cls, board: dict[str, Any]) -> BoardFacts:
        sim = board.get("simulator")
        return cls(
            id=board["id"], name=board["name"], architecture=board["architecture"], mcu=board["mcu"],
            f_cpu=board["f_cpu"], flash_bytes=board["flash_bytes"], analog_pins=tuple(board["pins"]["analog"]),
            usb_serial=tuple(UsbSerial(int(u["vid"], 16), int(u["pid"], 16), u["name"])
                             for u in board.get("usb_serial", [])),
            simulation=Simulation(sim["mcu"], tuple(sim["ports"]), sim.get("engine", "simavr"))
            if sim and "mcu" in sim else None,
            not_simulated=(sim or {}).get("unsupported", ""),
            serial_port=board.get("serial", {}).get("port", ""),
            uarts=tuple(uart["name"] for uart in board.get("uarts", [])),
        )

    def bridge_name(self, vid: int | None, pid: int | None) -> str | None:
        """CH340, CH9102, ... when (vid, pid) is one of this board's USB-serial bridges."""
        return next((u.name for u in self.usb_serial if (u.vid, u.pid) == (vid, pid)), None)

    def simulated(self) -> Simulation:
        """How to simulate this board; an error for a board the simulator cannot run."""
        if self.simulation is None:
            if self.not_simulated:
                raise FirmwareError(f"board '{self.id}' ({self.name}) cannot be simulated: {self.not_simulated}",
                                    "build it and run it on the real board (pio run -t upload)")
            raise FirmwareError(f"board '{self.id}' cannot be simulated",
                                "only boards whose definition has a 'simulator' section with mcu and ports can")
        return self.simulation


def board_facts(board: str, definitions: Path = DEFINITIONS, where: str = "--board") -> BoardFacts:
    """The facts of a board named by its definition id or a PlatformIO board id it covers;
    `where` names the option that gave it, for the error listing the valid names."""
    from generator.codegen.definitions import Definitions  # noqa: PLC0415 - jsonschema on use only

    return BoardFacts.from_definition(Definitions(definitions).board(board, where))
