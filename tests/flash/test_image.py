"""Image preflight: only a raw binary that fits the CH32V203C8 gets through."""
from __future__ import annotations

from pathlib import Path

import pytest

from generator.boards import board_facts
from generator.errors import FirmwareError
from generator.flash.image import check_image

BMCU_C = board_facts("bmcu_c")
CH32V203C8_FLASH_BYTES = BMCU_C.flash_bytes


def test_a_raw_binary_that_fits_passes(tmp_path: Path) -> None:
    image = tmp_path / "klipper.bin"
    image.write_bytes(b"\x6f\x00\x00\x0b" + bytes(CH32V203C8_FLASH_BYTES - 4))
    assert check_image(image, BMCU_C) == CH32V203C8_FLASH_BYTES


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("missing.bin", None, "does not exist"),
        ("empty.bin", b"", "is empty"),
        ("klipper.bin", b"\x7fELF\x01\x01\x01" + bytes(100), "is an ELF file"),
        ("klipper.bin", b":10000000376F0000B7070020938707009387070011\r\n:00000001FF\r\n", "is an Intel HEX file"),
        ("klipper.bin", b"6f00000b97110020\n", "is hexadecimal text"),
        ("klipper.hex", b"\x6f\x00\x00\x0b", "named .hex"),
        ("big.bin", bytes(CH32V203C8_FLASH_BYTES + 1), "only 65536 bytes of flash"),
    ],
)
def test_refused_images_say_why(tmp_path: Path, name: str, content: bytes | None, said: str) -> None:
    image = tmp_path / name
    if content is not None:
        image.write_bytes(content)
    with pytest.raises(FirmwareError) as refused:
        check_image(image, BMCU_C)
    assert said in refused.value.message
    assert refused.value.hint


def test_binary_that_starts_with_a_colon_is_still_binary(tmp_path: Path) -> None:
    image = tmp_path / "klipper.bin"
    image.write_bytes(b":\x00\x01\x02\xff")
    assert check_image(image, BMCU_C) == 5
