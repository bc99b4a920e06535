"""What the generated sketches promise about integrity (docs/protocol.md), checked in their code."""
from __future__ import annotations

import re

import pytest

from generator.codegen.selection import Selection
from generator.codegen.sketch import generate


@pytest.mark.parametrize("board", ["uno", "megaatmega2560"])
def test_avr_dht_read_keeps_interrupts_on(board: str) -> None:
    """The 4-5 ms DHT read must not switch interrupts off: the USART would keep 2 of the ~50
    bytes arriving at 115200 (the simulator cannot show that loss, so the code is checked)."""
    content = generate(Selection(board=board, transport="serial_standard", commands=("dht_read",)), "fw").content
    assert "static void dht_lock() {}" in content and "static void dht_unlock() {}" in content
    assert not re.search(r"\bnoInterrupts\(\)|\bcli\(\)", content)


@pytest.mark.parametrize(("board", "detection"), [
    ("uno", "if (lost >= 0) fw_rx_lost((uint16_t)lost);"),
    ("d1_mini", "if (Serial.hasOverrun()) fw_rx_lost((uint16_t)(Serial.available() + 1));"),
    ("bmcu_c", "fw_rx_lost(fw_uart_waiting());"),
])
def test_every_serial_transport_reports_lost_bytes_before_feeding(board: str, detection: str) -> None:
    """Each architecture's receive path tells the protocol core about lost bytes."""
    content = generate(Selection(board=board, transport="serial_standard", commands=()), "fw").content
    assert detection in content
