"""Entering the WCH serial bootloader by pulsing DTR/RTS, for boards wired for auto-download."""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import serial

from generator.errors import FirmwareError

# The ISP "identify" request (command 0xa1) and the header of every bootloader reply.
_IDENTIFY = bytes([0xA1, 0x12, 0x00, 0x00, 0x00]) + b"MCU ISP & WCH.CN"
_REQUEST = b"\x57\xab" + _IDENTIFY + bytes([sum(_IDENTIFY) & 0xFF])
_REPLY = b"\x55\xaa\xa1"


@dataclass(frozen=True)
class Wiring:
    """Which line drives RESET, and the line levels that hold RESET and raise BOOT0."""

    reset_line: str  # "dtr" or "rts"; the other line drives BOOT0
    reset_level: bool
    boot_level: bool

    @property
    def boot_line(self) -> str:
        return "rts" if self.reset_line == "dtr" else "dtr"

    def describe(self) -> str:
        return (f"{self.reset_line.upper()}={'on' if self.reset_level else 'off'} resets, "
                f"{self.boot_line.upper()}={'on' if self.boot_level else 'off'} selects the bootloader")


WIRINGS = [Wiring(line, reset, boot) for line in ("rts", "dtr") for reset in (True, False) for boot in (True, False)]


def set_lines(port: serial.Serial, dtr: bool, rts: bool) -> None:
    port.dtr = dtr
    port.rts = rts


def enter_bootloader(device: str, pulse: float = 0.1, reply_timeout: float = 0.3) -> str:
    """Try each wiring until the chip answers as a bootloader; return the wiring that worked.

    The lines are put back as they were, whatever happens.
    """
    try:
        port = serial.Serial(device, 115200, timeout=reply_timeout, exclusive=True)
    except OSError as err:
        raise FirmwareError(f"Cannot open {device} to pulse DTR/RTS: {err}") from None
    with port:
        initial = (port.dtr, port.rts)
        try:
            for wiring in WIRINGS:
                _pulse(port, wiring, pulse)
                if _answers(port):
                    return wiring.describe()
        except OSError as err:
            raise FirmwareError(
                f"Cannot drive DTR/RTS on {device}: {err}",
                "this port has no modem-control lines: hold BOOT, tap RESET, release BOOT, and flash without --dtr-rts",
            ) from None
        finally:
            with contextlib.suppress(OSError):
                set_lines(port, *initial)
    raise FirmwareError(
        f"No DTR/RTS pulse on {device} brought up the bootloader",
        "the board is probably not wired for auto-download: hold BOOT, tap RESET, release BOOT, "
        "and flash without --dtr-rts",
    )


def _pulse(port: serial.Serial, wiring: Wiring, pulse: float) -> None:
    """Hold RESET with BOOT0 raised, release RESET, then release BOOT0."""
    for reset_held, boot_raised in ((True, True), (False, True), (False, False)):
        levels = {
            wiring.reset_line: wiring.reset_level == reset_held,
            wiring.boot_line: wiring.boot_level == boot_raised,
        }
        set_lines(port, levels["dtr"], levels["rts"])
        if boot_raised:
            time.sleep(pulse)
    port.reset_input_buffer()


def _answers(port: serial.Serial) -> bool:
    port.write(_REQUEST)
    return port.read(len(_REPLY)) == _REPLY
