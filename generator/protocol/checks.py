"""The protocol's check codes (docs/protocol.md): CRC-8 for text lines' `*hh`, CRC-7 for
binary frames. Both most significant bit first, initial value 0, no reflection, no final XOR."""
from __future__ import annotations

from collections.abc import Iterable


def crc_by_bits(data: Iterable[int], width: int, poly: int, crc: int = 0) -> int:
    """The CRC of `width` bits with polynomial `poly` (its top bit left out), bit by bit."""
    top = 1 << (width - 1)
    mask = (1 << width) - 1
    for byte in data:
        for bit in range(7, -1, -1):
            feedback = bool(crc & top) ^ bool((byte >> bit) & 1)
            crc = (crc << 1) & mask
            if feedback:
                crc ^= poly
    return crc


def crc7_by_bits(data: Iterable[int], crc: int = 0) -> int:
    """CRC-7 (x^7 + x^3 + 1, MMC/SD cards' polynomial): "123456789" -> 0x75."""
    return crc_by_bits(data, 7, 0x09, crc)


def crc8_by_bits(data: Iterable[int], crc: int = 0) -> int:
    """CRC-8 (x^8 + x^2 + x + 1, polynomial 0x07): "123456789" -> 0xF4."""
    return crc_by_bits(data, 8, 0x07, crc)


_CRC7 = [crc7_by_bits([byte]) for byte in range(256)]  # the CRC of one byte from 0, for each byte
_CRC8 = [crc8_by_bits([byte]) for byte in range(256)]


def crc7(data: Iterable[int], crc: int = 0) -> int:
    """CRC-7 of the bytes, a table lookup per byte (the same as bit by bit)."""
    for byte in data:
        crc = _CRC7[((crc << 1) ^ byte) & 0xFF]
    return crc


def crc8(data: Iterable[int], crc: int = 0) -> int:
    """CRC-8 of the bytes, a table lookup per byte (the same as bit by bit)."""
    for byte in data:
        crc = _CRC8[crc ^ byte]
    return crc
