"""Entering the WCH serial bootloader by pulsing DTR/RTS, for boards wired for auto-download.

Auto-download circuits (two cross-coupled transistors, as on ESP boards) reset the chip when one
line alone is asserted and raise BOOT0 when the other alone is; both or neither asserted is idle,
which is why opening the port (Linux asserts both) does not disturb the chip. Which line resets
varies between boards, so both are tried. Both lines change in one ioctl, so no glitch between.
"""
from __future__ import annotations

import fcntl
import struct
import termios
import time
from dataclasses import dataclass

import serial

from generator.errors import FirmwareError

# The ISP "identify" request (command 0xa1) and the start of the bootloader's reply to it.
_IDENTIFY = bytes([0xA1, 0x12, 0x00, 0x00, 0x00]) + b"MCU ISP & WCH.CN"
_REQUEST = b"\x57\xab" + _IDENTIFY + bytes([sum(_IDENTIFY) & 0xFF])
_REPLY = b"\x55\xaa\xa1"


@dataclass(frozen=True)
class Pulse:
    """The pulse for a board whose `reset_line` resets the chip; the other line raises BOOT0."""

    reset_line: str  # "dtr" or "rts"

    @property
    def boot_line(self) -> str:
        return "rts" if self.reset_line == "dtr" else "dtr"

    def steps(self) -> list[dict[str, bool]]:
        """Reset alone, then BOOT0 alone (the chip starts in its bootloader), then idle."""
        return [
            {self.reset_line: True, self.boot_line: False},
            {self.reset_line: False, self.boot_line: True},
            {self.reset_line: False, self.boot_line: False},
        ]

    def describe(self) -> str:
        return f"{self.reset_line.upper()} resets, {self.boot_line.upper()} selects the bootloader"


PULSES = [Pulse("rts"), Pulse("dtr")]


def read_lines(fd: int) -> tuple[bool, bool]:
    """The (DTR, RTS) levels the port drives now."""
    bits = struct.unpack("I", fcntl.ioctl(fd, termios.TIOCMGET, struct.pack("I", 0)))[0]
    return bool(bits & termios.TIOCM_DTR), bool(bits & termios.TIOCM_RTS)


def set_lines(fd: int, dtr: bool, rts: bool) -> None:
    """Drive DTR and RTS together, in one ioctl."""
    bits = struct.unpack("I", fcntl.ioctl(fd, termios.TIOCMGET, struct.pack("I", 0)))[0]
    bits &= ~(termios.TIOCM_DTR | termios.TIOCM_RTS)
    bits |= (termios.TIOCM_DTR if dtr else 0) | (termios.TIOCM_RTS if rts else 0)
    fcntl.ioctl(fd, termios.TIOCMSET, struct.pack("I", bits))


def enter_bootloader(device: str, pulse: float = 0.1, reply_timeout: float = 0.3) -> str:
    """Pulse until the chip answers as a bootloader; return which pulse did it.

    The lines are put back to their levels from before, whatever happens.
    """
    try:
        port = serial.Serial(device, 115200, timeout=reply_timeout, exclusive=True)
    except OSError as err:
        raise FirmwareError(f"Cannot open {device} to pulse DTR/RTS: {err}") from None
    with port:
        try:
            initial = read_lines(port.fileno())
        except OSError as err:
            raise FirmwareError(
                f"Cannot drive DTR/RTS on {device}: {err}",
                "this port has no modem-control lines: hold BOOT, tap RESET, release BOOT, and flash without --dtr-rts",
            ) from None
        try:
            for candidate in PULSES:
                for levels in candidate.steps():
                    set_lines(port.fileno(), levels["dtr"], levels["rts"])
                    time.sleep(pulse)
                port.reset_input_buffer()
                port.write(_REQUEST)
                if port.read(len(_REPLY)) == _REPLY:
                    return candidate.describe()
        finally:
            set_lines(port.fileno(), *initial)
    raise FirmwareError(
        f"No DTR/RTS pulse on {device} brought up the bootloader",
        "the board is probably not wired for auto-download: hold BOOT, tap RESET, release BOOT, "
        "and flash without --dtr-rts",
    )
