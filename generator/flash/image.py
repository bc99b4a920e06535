"""Preflight of the firmware image: a raw binary that wchisp reads as such and that fits the board's flash."""
from __future__ import annotations

from pathlib import Path

from generator.boards import BoardFacts
from generator.errors import FirmwareError

ELF_MAGIC = b"\x7fELF"
# wchisp reads a file with one of these extensions as Intel HEX, whatever it holds.
HEX_EXTENSIONS = {".ihex", ".ihe", ".h86", ".hex", ".a43", ".a90"}
_HEX_TEXT = frozenset(b"0123456789abcdefABCDEF\r\n")


def check_image(path: Path, board: BoardFacts) -> int:
    """Return the image size in bytes, or raise FirmwareError if wchisp would not flash it as is."""
    if not path.is_file():
        raise FirmwareError(
            f"Firmware image {path} does not exist",
            "build it first (for the BMCU-C's Klipper port, see the README: mainline Klipper has no "
            "CH32V target) or pass the right path with --firmware",
        )
    data = path.read_bytes()
    if not data:
        raise FirmwareError(f"Firmware image {path} is empty", "rebuild it; the build probably failed")
    kind = _foreign_format(path, data)
    if kind:
        raise FirmwareError(
            f"Firmware image {path} is {kind}, not a raw binary",
            "pass the raw .bin (`objcopy -O binary`); wchisp guesses the format from the content, "
            "so a renamed ELF or HEX file would not be flashed as you expect",
        )
    if len(data) > board.flash_bytes:
        raise FirmwareError(
            f"Firmware image {path} is {len(data)} bytes; the chip has only {board.flash_bytes} bytes of flash",
            f"check that the image was built for the {board.name} ({board.flash_bytes // 1024} KiB)",
        )
    return len(data)


def _foreign_format(path: Path, data: bytes) -> str | None:
    """Name the format wchisp would read instead of a raw binary, if any."""
    if data.startswith(ELF_MAGIC):
        return "an ELF file"
    if path.suffix.lower() in HEX_EXTENSIONS:
        return f"named {path.suffix} (wchisp reads it as Intel HEX)"
    if data[:1] == b":" and all(c in _HEX_TEXT or c == ord(":") for c in data):
        return "an Intel HEX file"
    if all(c in _HEX_TEXT for c in data):
        return "hexadecimal text"
    return None
