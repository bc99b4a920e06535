"""Board facts reaching the sketch: analog pins read by A-index, pins without a pull-up,
the host UART chosen among a board's UARTs, and the optional RS-485 driver-enable pin."""
from __future__ import annotations

import json
import re

import pytest

from generator.codegen.selection import Selection
from generator.codegen.sketch import generate
from generator.errors import FirmwareError
from testsupport import helpers

# The A-numbering of each core, from its own tables: AVR pins_arduino.h (A0 = 14 / 54),
# ESP8266 3.1.2 variants/generic/common.h (A0 = 17), and the CH32V203C8 variant's
# analogInputPin[] = {PA0..PA7, PB0, PB1} (Community-PIO-CH32V/arduino_core_ch32 9cde8bf).
CORE_ANALOG = {
    "arduino_uno": list(range(14, 20)), "arduino_nano": list(range(14, 22)),
    "arduino_mega2560": list(range(54, 70)), "wemos_d1_mini": [17],
    "bmcu_c": [0, 1, 2, 3, 4, 5, 6, 7, 16, 17],
}


def board_json(board: str) -> dict:
    return json.loads((helpers.DEFINITIONS / "boards" / f"{board}.json").read_text(encoding="utf-8"))


def sketch(board: str, transport: str = "serial_standard", commands: tuple[str, ...] = ("analog_read",),
           **settings: str) -> str:
    if transport == "wifi_tcp":
        settings = {"WIFI_SSID": "n", "WIFI_PASSWORD": "", **settings}
    return generate(Selection(board=board, transport=transport, commands=commands, settings=settings), "t").content


@pytest.mark.parametrize("board", sorted(CORE_ANALOG))
def test_analog_pins_are_the_cores_a_numbers(board: str) -> None:
    """Index n of the board's analog list is the core's A<n>, and analogRead() gets n."""
    assert board_json(board)["pins"]["analog"] == CORE_ANALOG[board]
    content = sketch(board)
    table = re.search(r"FW_PINS_ANALOG\[\] FW_FLASH = \{ ([^}]*) \}", content)
    assert table and [int(x) for x in table.group(1).split(",")] == CORE_ANALOG[board]
    assert "analogRead((uint8_t)fw_analog_index(args[0]))" in content


def test_gpio16_pullup_is_refused_on_the_d1_mini() -> None:
    """GPIO16 has no pull-up: the sketch refuses `GPIO_READ 16 up` instead of pretending."""
    assert board_json("wemos_d1_mini")["pins"]["no_pullup"] == [16]
    content = sketch("wemos_d1_mini", "wifi_tcp", ("gpio_read",))
    assert helpers.pins_with_flag("FW_PIN_NO_PULLUP", content) == {16}
    refusal = "fw_reply_arg_error(FW_CODE(FW_BAD_PIN), FW_KEY_pin)"
    assert f"if (args[1] && !fw_pin_has_pullup(args[0])) {{\n    {refusal}" in content
    assert helpers.pins_with_flag("FW_PIN_NO_PULLUP", sketch("arduino_uno", commands=("gpio_read",))) == set()


@pytest.mark.parametrize(("board", "port", "begin", "reserved"), [
    ("bmcu_c", "", "fw_uart_setup.setRx((uint32_t)10)", {9, 10}),
    ("bmcu_c", "usart3", "fw_uart_setup.setRx((uint32_t)27)", {26, 27}),
    ("arduino_mega2560", "Serial1", "#define FW_USART_RX_VECT USART1_RX_vect", {18, 19}),
])
def test_host_uart_is_chosen_among_the_boards(board: str, port: str, begin: str, reserved: set[int]) -> None:
    content = sketch(board, **({"SERIAL_PORT": port} if port else {}))
    assert begin in content
    for pin in reserved:
        assert re.search(rf"\b{pin}: \w+ [RT]X \(serial_standard\)", content), pin


def test_unknown_uart_names_the_choices() -> None:
    with pytest.raises(FirmwareError, match="no such UART") as error:
        sketch("bmcu_c", SERIAL_PORT="USART2")
    assert "USART1, USART3" in str(error.value)
    with pytest.raises(FirmwareError, match="choose one of: Serial"):
        sketch("arduino_uno", SERIAL_PORT="Serial1")


def test_rs485_driver_enable_pin() -> None:
    """High only while a reply is sent: set before the first byte, released after the flush."""
    content = sketch("arduino_uno", RS485_DE_PIN="2")
    assert "digitalWrite(2, HIGH);" in content and "fw_rs485.release();" in content
    assert "2: RS-485 driver enable of Serial (serial_standard)" in content
    assert "digitalWrite(" not in sketch("arduino_uno", commands=())
    for bad in ("1", "99"):
        with pytest.raises(FirmwareError, match=f"RS485_DE_PIN = {bad}"):
            sketch("arduino_uno", RS485_DE_PIN=bad)
