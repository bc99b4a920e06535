"""Which serial port to flash through: the one given, or the only plausible candidate."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from serial.tools import list_ports

from generator.errors import FirmwareError

LINK_DIRS = (Path("/dev/serial/by-id"), Path("/dev/serial/by-path"))
# USB-serial bridges made by WCH, as fitted to or used with a BMCU-C.
WCH_BRIDGES = {(0x1A86, 0x7523): "CH340", (0x1A86, 0x55D4): "CH9102"}
comports = list_ports.comports  # the seam tests replace: pyserial reads sysfs, which tests cannot fake


@dataclass
class SerialPort:
    """One serial device, known by its real path, with its stable links and USB identity."""

    device: str
    by_id: list[str] = field(default_factory=list)
    by_path: list[str] = field(default_factory=list)
    vid: int | None = None
    pid: int | None = None
    serial_number: str | None = None
    description: str = ""
    name: str = ""  # the name to show and to hand to wchisp; set by `_name_ports`

    @property
    def usb_id(self) -> str:
        return f"{self.vid:04x}:{self.pid:04x}" if self.vid is not None and self.pid is not None else "?:?"

    @property
    def bridge(self) -> str | None:
        """CH340, CH9102, ... for a WCH bridge."""
        return WCH_BRIDGES.get((self.vid or 0, self.pid or 0))

    @property
    def is_wch(self) -> bool:
        return self.bridge is not None

    def summary(self) -> str:
        """One line: stable name, real path, VID:PID and description."""
        chip = f" {self.bridge}" if self.bridge else ""
        real = f" -> {self.device}" if self.name != self.device else ""
        return f"{self.name}{real} [{self.usb_id}{chip}] {self.description}".rstrip()


def list_candidates() -> list[SerialPort]:
    """USB serial ports and /dev/serial links, one entry per real device, WCH bridges first."""
    found: dict[str, SerialPort] = {}
    for info in comports():
        if info.vid is None:  # built-in UARTs (ttyS*, ttyAMA*) are only used when named
            continue
        real = os.path.realpath(info.device)
        found[real] = SerialPort(
            real, vid=info.vid, pid=info.pid, serial_number=info.serial_number,
            description=info.description if info.description not in (None, "n/a") else "",
        )
    for links_dir in LINK_DIRS:
        for link in sorted(links_dir.glob("*")) if links_dir.is_dir() else []:
            real = os.path.realpath(link)
            if not os.path.exists(real):
                continue
            port = found.setdefault(real, SerialPort(real, description=link.name))
            (port.by_id if links_dir.name == "by-id" else port.by_path).append(str(link))
    ports = list(found.values())
    _name_ports(ports)
    return sorted(ports, key=lambda p: (not p.is_wch, p.name))


def _name_ports(ports: list[SerialPort]) -> None:
    """Prefer by-id names, except for bridges without a serial number that share one (two CH340s)."""
    identities = [(p.vid, p.pid, p.serial_number) for p in ports]
    for port in ports:
        shared = port.vid is not None and identities.count((port.vid, port.pid, port.serial_number)) > 1
        preferred = (port.by_path + port.by_id) if shared else (port.by_id + port.by_path)
        port.name = preferred[0] if preferred else port.device


@dataclass(frozen=True)
class Wanted:
    """What the port is for, in messages, and whether a lone WCH bridge settles the choice."""

    board: str = "the BMCU-C"
    option: str = "--device PORT (or upload_port in platformio.ini)"
    prefer_wch: bool = True


def choose_port(requested: str | None, wanted: Wanted = Wanted()) -> tuple[SerialPort, str]:
    """Return the port to use and a sentence saying why it was chosen."""
    candidates = list_candidates()
    if requested:
        if not os.path.exists(requested):
            raise FirmwareError(f"Serial port {requested} does not exist", _choices_hint(candidates))
        real = os.path.realpath(requested)
        known = next((p for p in candidates if p.device == real), None)
        return known or SerialPort(real, description="not a USB serial port", name=requested), "given"
    if not candidates:
        raise FirmwareError("No USB serial port found",
                            f"plug {wanted.board} in, or name a port with {wanted.option}")
    wch = [p for p in candidates if p.is_wch] if wanted.prefer_wch else []
    if len(wch) == 1:
        others = len(candidates) - 1
        return wch[0], ("the only WCH USB-serial bridge" + (f"; {others} other port(s) ignored" if others else ""))
    if len(candidates) == 1:
        return candidates[0], "the only USB serial port"
    several = wch or candidates
    raise FirmwareError(
        f"Several serial ports could be {wanted.board}; refusing to guess:\n"
        + "\n".join(f"  {p.summary()}" for p in several),
        f"name one with {wanted.option}; unplug the others to see which one is the board",
    )


def _choices_hint(candidates: list[SerialPort]) -> str:
    if not candidates:
        return "no USB serial port is connected; plug the board in"
    return "ports found:\n" + "\n".join(f"    {p.summary()}" for p in candidates)
