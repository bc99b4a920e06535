"""The firmware's check codes, as generated, against the protocol's definition bit by bit.

fw_crc7 and fw_crc8 (templates/protocol_core.cpp.j2) compute a byte's CRC without a loop or a
table (issue 19: the bitwise loop cost ~70 cycles per byte on AVR). The functions are cut out of
a generated sketch and compiled by the host g++ with a driver that prints every (register, byte)
pair's result: all 65,536 must match generator/protocol/checks.py's bitwise CRCs, which the host
uses. (The frame CRC-7 is held shifted left by one in an 8-bit register.)
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from generator.codegen import Selection, generate
from generator.protocol.checks import crc7_by_bits, crc8_by_bits

DRIVER = """#include <cstdint>
#include <cstdio>
#define FW_INLINE inline
{functions}
int main() {{
  for (unsigned crc = 0; crc < 256; crc++) {{
    for (unsigned byte = 0; byte < 256; byte++) {{
      std::printf("%u %u\\n", fw_crc7((uint8_t)crc, (uint8_t)byte), fw_crc8((uint8_t)crc, (uint8_t)byte));
    }}
  }}
}}
"""


def function(content: str, name: str) -> str:
    """The definition of `[FW_INLINE ]static uint8_t name(...)` in the sketch, up to its closing brace."""
    found = re.search(rf"^(FW_INLINE )?static uint8_t {name}\(.*?^}}\n", content, re.MULTILINE | re.DOTALL)
    assert found, f"no {name} in the generated sketch"
    return found.group(0)


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs the host's g++ (build-essential)")
def test_generated_crcs_match_the_bitwise_definition_for_every_input(tmp_path: Path) -> None:
    content = generate(Selection(board="uno", transport="serial_standard", commands=()), "fw").content
    source = tmp_path / "crc.cpp"
    source.write_text(DRIVER.format(functions="".join(function(content, n) for n in ("fw_crc7", "fw_crc8"))),
                      encoding="utf-8")
    subprocess.run(["g++", "-std=gnu++17", "-Wall", "-Wextra", "-Werror", "-o", str(tmp_path / "crc"), str(source)],
                   check=True)
    lines = subprocess.run([str(tmp_path / "crc")], check=True, capture_output=True, text=True).stdout.splitlines()
    assert len(lines) == 256 * 256
    wrong = []
    for index, line in enumerate(lines):
        crc, byte = divmod(index, 256)
        got7, got8 = map(int, line.split())
        if got8 != crc8_by_bits([byte], crc):
            wrong.append(f"fw_crc8({crc}, {byte}) = {got8}")
        if not crc & 1 and got7 != crc7_by_bits([byte], crc >> 1) << 1:  # a CRC-7 register's low bit is 0
            wrong.append(f"fw_crc7({crc}, {byte}) = {got7}")
    assert not wrong, wrong[:5]
