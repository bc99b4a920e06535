"""Serial-port discovery: the USB serial ports there are, with their stable names, and which one a
board is on: the one given, or the only plausible candidate."""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from serial.tools import list_ports

from generator.boards import BoardFacts
from generator.errors import FirmwareError

LINK_DIRS = (Path("/dev/serial/by-id"), Path("/dev/serial/by-path"))
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
    bridge: str | None = None  # the board's bridge it is (CH340, ...); set by `list_candidates`

    @property
    def identity(self) -> str:
        """What stays the same when the board is unplugged and plugged back in under another
        /dev/ttyUSBn: its by-id link when no other port shares it, else its USB serial number,
        else its by-path link (the same USB socket), else its device."""
        if self.name in self.by_id:
            return self.name
        if self.serial_number and self.vid is not None:
            return f"usb-{self.usb_id}-{self.serial_number}"
        return self.by_path[0] if self.by_path else self.device

    @property
    def usb_id(self) -> str:
        return f"{self.vid:04x}:{self.pid:04x}" if self.vid is not None and self.pid is not None else "?:?"

    def summary(self) -> str:
        """One line: stable name, real path, VID:PID and description."""
        chip = f" {self.bridge}" if self.bridge else ""
        real = f" -> {self.device}" if self.name != self.device else ""
        return f"{self.name}{real} [{self.usb_id}{chip}] {self.description}".rstrip()


def list_candidates(board: BoardFacts | None = None) -> list[SerialPort]:
    """USB serial ports and /dev/serial links, one entry per real device; the bridges `board` is
    used through (its definition's usb_serial) first."""
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
    for port in ports:
        port.bridge = board.bridge_name(port.vid, port.pid) if board else None
    return sorted(ports, key=lambda p: (p.bridge is None, p.name))


def _name_ports(ports: list[SerialPort]) -> None:
    """Prefer by-id names, except for bridges without a serial number that share one (two CH340s)."""
    identities = [(p.vid, p.pid, p.serial_number) for p in ports]
    for port in ports:
        shared = port.vid is not None and identities.count((port.vid, port.pid, port.serial_number)) > 1
        preferred = (port.by_path + port.by_id) if shared else (port.by_id + port.by_path)
        port.name = preferred[0] if preferred else port.device


def choose_port(requested: str | None, board: BoardFacts, option: str) -> tuple[SerialPort, str]:
    """The port `board` is on, and a sentence saying why it was chosen: the one `requested`, else
    the only one of the board's USB-serial bridges, else the only USB serial port. `option` is how
    the user names a port, for messages."""
    candidates = list_candidates(board)
    if requested:
        if not os.path.exists(requested):
            raise FirmwareError(f"Serial port {requested} does not exist", _choices_hint(candidates))
        kind = not_a_serial_port(requested)
        if kind:
            raise FirmwareError(f"{requested} is not a serial port: it is {kind}", _choices_hint(candidates))
        real = os.path.realpath(requested)
        known = next((p for p in candidates if p.device == real), None)
        return known or SerialPort(real, description="not a USB serial port", name=requested), "given"
    if not candidates:
        raise FirmwareError("No USB serial port found", f"plug the {board.name} in, or name a port with {option}")
    bridges = [p for p in candidates if p.bridge]
    if len(bridges) == 1:
        others = len(candidates) - 1
        return bridges[0], (f"the only {bridges[0].bridge} USB-serial bridge"
                            + (f"; {others} other port(s) ignored" if others else ""))
    if len(candidates) == 1:
        return candidates[0], "the only USB serial port"
    several = bridges or candidates
    raise FirmwareError(
        f"Several serial ports could be the {board.name}; refusing to guess:\n"
        + "\n".join(f"  {p.summary()}" for p in several),
        f"name one with {option}; unplug the others to see which one is the board",
    )


def not_a_serial_port(path: str) -> str | None:
    """What `path` is when it is not a serial port (a character device the kernel's tty layer
    drives as a serial line, or a pty slave such as socat's); None when it is one."""
    try:
        info = os.stat(path)
    except OSError as err:
        return f"unreadable ({err.strerror})"
    if stat.S_ISDIR(info.st_mode):
        return "a directory"
    if not stat.S_ISCHR(info.st_mode):
        return "a regular file" if stat.S_ISREG(info.st_mode) else "not a character device"
    major, minor = os.major(info.st_rdev), os.minor(info.st_rdev)
    drivers = _tty_drivers()
    if not drivers:  # no /proc/tty/drivers (not Linux): a character device is all we can check
        return None
    for driver in drivers:
        if driver[0] == major and driver[1] <= minor <= driver[2]:
            return None if driver[3] in ("serial", "pty:slave") else f"the {driver[3]} device {driver[4]}"
    return f"a character device ({major}:{minor}) that is not a tty"


def _tty_drivers() -> list[tuple[int, int, int, str, str]]:
    """/proc/tty/drivers: (major, first minor, last minor, type, device) per line."""
    drivers = []
    try:
        lines = Path("/proc/tty/drivers").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        fields = line.split()
        if len(fields) >= 5 and fields[2].isdigit():
            first, _, last = fields[3].partition("-")
            drivers.append((int(fields[2]), int(first), int(last or first), fields[4], fields[1]))
    return drivers


def _choices_hint(candidates: list[SerialPort]) -> str:
    if not candidates:
        return "no USB serial port is connected; plug the board in"
    return "ports found:\n" + "\n".join(f"    {p.summary()}" for p in candidates)
