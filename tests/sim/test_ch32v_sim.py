"""The BMCU-C firmware running: generated sketches linked against the real openwch CH32 cores
(main and PR #201, tests/testsupport/ch32build.py) on the simulated CH32V203 (Unicorn,
generator/sim/ch32v), talked to with the project's BoardClient over the simulator's pty.

What the AVR boards cannot show is checked here: the RS-485 driver enable (PA12) high exactly
while a reply is on the wire, the USART receive interrupt of the transport (the core's own
`Serial.available()` is `return -1` on the main core), the second USART (USART3), the core's
SysTick timing of the DHT read and its 12-bit PWM and ADC.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.boards import board_facts
from generator.host.client import BoardClient, frame, unframe
from generator.paths import ROOT
from generator.sim.board import (
    ClockEvent,
    LatencyEvent,
    PinEvent,
    PwmEvent,
    UartEvent,
    UnmodelledEvent,
    board_simulator,
)
from testsupport import ch32build, helpers

ALL = "gpio_write, gpio_read, analog_read, pwm_write, relay_set, dht_read, gpio_watch, analog_watch"
DE = "PA12"


Bmcu = helpers.SimulatedBoard


def start(elf: Path, serial: str = "", baud: int = 115200) -> Iterator[Bmcu]:
    with board_simulator(elf, board_facts("bmcu_c"), serial=serial, uart_trace=True) as sim:
        with BoardClient(sim.serial_port, baud, timeout=5.0) as client:
            client.wait_ready()
            yield Bmcu(sim, client)


@pytest.fixture(params=ch32build.BOARD_PARAMS)
def core(request: pytest.FixtureRequest) -> str:
    """The real CH32 core the firmware is linked against."""
    return str(request.param).split(":")[1]


@pytest.fixture
def bmcu(core: str) -> Iterator[Bmcu]:
    """The bmcu_c env's transport (USART1, RS-485 enable on PA12) with every command."""
    yield from start(ch32build.firmware(core, ALL, RS485_DE_PIN="12"))


def test_ping_and_info(bmcu: Bmcu) -> None:
    assert bmcu.ask("PING") == {"ok": 1, "cmd": "PING"}
    info = bmcu.client.info()
    assert (info.board, info.transport) == ("bmcu_c", "serial_standard")
    assert info.capabilities == ["analog_read", "analog_watch", "dht_read", "gpio_read", "gpio_watch",
                                 "gpio_write", "pwm_write", "relay_set"]


def test_latency_is_timed_from_a_requests_last_byte_text_or_frame(core: str) -> None:
    """The model reports a reply's latency from the last byte the host sent (a line's '\n', a
    frame's CRC) to the firmware's next byte, as the AVR board does: frames are timed too."""
    elf = ch32build.firmware(core, ALL, RS485_DE_PIN="12")
    with board_simulator(elf, board_facts("bmcu_c"), latency=True) as sim:
        with BoardClient(sim.serial_port, 115200, timeout=5.0) as client:
            client.wait_ready()
            for compact in (False, True):
                client.info(compact=compact)
                assert (client.prepare("PING").form is not None) == compact
                since = sim.mark()
                assert client.request("PING") == {"ok": 1, "cmd": "PING"}
                assert 0 < sim.wait_for(LatencyEvent, since=since, timeout=5).cycles < 5000


def test_gpio_write_read_and_pull_up(bmcu: Bmcu) -> None:
    assert bmcu.ask("GPIO_WRITE 4 1") == {"ok": 1, "cmd": "GPIO_WRITE", "pin": 4, "value": 1}
    bmcu.sim.wait_for_pin("PA4", 1, timeout=5)
    assert bmcu.sim.read_pin("PA4") == ("out", 1)
    bmcu.ask("GPIO_WRITE 17 1")  # PB1
    bmcu.sim.wait_for_pin("PB1", 1, timeout=5)
    bmcu.sim.set_pin("PA7", 1)
    assert bmcu.ask("GPIO_READ 7")["value"] == 1
    bmcu.sim.set_pin("PA7", 0)
    assert bmcu.ask("GPIO_READ 7")["value"] == 0
    assert bmcu.ask("GPIO_READ 6 up")["value"] == 1  # nothing drives PA6: the pull-up reads 1
    assert bmcu.ask("GPIO_WRITE 12 1")["error"] == "reserved_pin"  # the RS-485 enable


@pytest.mark.parametrize(("pin", "channel", "millivolts"), [("A0", 0, 2500), ("A3", 3, 1000), ("A9", 9, 3300)])
def test_analog_read_gives_the_12_bit_value(bmcu: Bmcu, pin: str, channel: int, millivolts: int) -> None:
    bmcu.sim.set_adc(channel, millivolts)
    assert bmcu.ask(f"ANALOG_READ {pin}")["value"] == millivolts * 4095 // 3300


@pytest.mark.parametrize("duty", [64, 255])
def test_pwm_write_duty_is_duty_over_255(bmcu: Bmcu, duty: int) -> None:
    since = bmcu.sim.mark()
    assert bmcu.ask(f"PWM_WRITE 8 {duty}") == {"ok": 1, "cmd": "PWM_WRITE", "pin": 8, "duty": duty}
    event = bmcu.sim.wait_for(PwmEvent, since=since, where=lambda e: e.pin == "PA8", timeout=5)
    assert abs(event.duty - duty / 255) < 0.01


@pytest.mark.parametrize(("model", "temperature", "humidity"),
                         [("dht22", 23.5, 45.0), ("dht22", -7.3, 88.8), ("dht11", 21.0, 38.0)])
def test_dht_read_against_the_waveform_model(bmcu: Bmcu, model: str, temperature: float, humidity: float) -> None:
    bmcu.sim.attach_dht("PA5", model, temperature, humidity)
    assert bmcu.ask(f"DHT_READ 5 {model}") == {"ok": 1, "cmd": "DHT_READ", "pin": 5, "model": model,
                                              "temperature": temperature, "humidity": humidity}
    assert bmcu.ask("DHT_READ 6") == {"ok": 0, "cmd": "DHT_READ", "error": "sensor_timeout"}


def test_ids_checksums_damaged_requests_and_pipelined_frames(bmcu: Bmcu) -> None:
    client = bmcu.client
    client.link.write(b"@7 PING*44\n")  # docs/protocol.md's example, both ways
    assert client.link.readline() == b'{"ok":1,"id":7,"cmd":"PING"}*01\n'
    damaged = bytearray(frame("GPIO_WRITE 3 1", 42))
    damaged[len(b"@42 GPIO_WRITE 3 ")] ^= 1
    client.link.write(bytes(damaged))
    line, _ = unframe(client.link.readline())
    assert json.loads(line)["ok"] == 0
    assert bmcu.sim.read_pin("PA3")[0] == "in", "a damaged request moved the pin"
    client.info(compact=True)  # binary frames from here on
    replies = client.pipeline(["PING", "GPIO_WRITE 3 1", "GPIO_READ 7", "ANALOG_READ A1"] * 10)
    assert all(r["ok"] == 1 for r in replies) and len(replies) == 40
    bmcu.sim.wait_for_pin("PA3", 1, timeout=5)


def test_watched_pin_changes_are_pushed(bmcu: Bmcu) -> None:
    client = bmcu.client
    client.info(compact=True)
    bmcu.sim.set_pin("PA7", 0)
    assert client.request("GPIO_WATCH 7 1")["value"] == 0
    bmcu.sim.set_pin("PA7", 1)
    assert client.wait_event() == {"event": "GPIO_CHANGE", "pin": 7, "value": 1}
    assert client.request("PING") == {"ok": 1, "cmd": "PING"}


def test_rs485_driver_enable_is_high_exactly_while_a_reply_is_sent(bmcu: Bmcu) -> None:
    """PA12 rises before the first start bit of each reply and falls after its last stop bit,
    within one byte time; no reply byte is ever sent with the driver off (the host would not
    hear it through the RS-485 transceiver)."""
    since = bmcu.sim.mark()
    for line in ("PING", "INFO", "GPIO_READ 7", "NOPE"):
        bmcu.ask(line)
    bmcu.sim.wait_for_pin(DE, 0, timeout=5)
    events = bmcu.sim.events[since:]
    edges = [e for e in events if isinstance(e, PinEvent) and e.pin == DE]
    assert edges, "the driver enable never rose: the host hears no reply through the transceiver"
    if edges[0].level == 0:  # a late answer to wait_ready's PINGs was under way at the mark
        edges = edges[1:]
    sent = [e for e in events if isinstance(e, UartEvent) and e.uart == "USART1" and e.start >= edges[0].cycle]
    windows = list(zip(edges[::2], edges[1::2], strict=True))
    assert len(windows) >= 4 and all(rise.level == 1 and fall.level == 0 for rise, fall in windows), edges
    byte_time = sent[0].cycle - sent[0].start
    for byte in sent:
        assert any(rise.cycle <= byte.start and byte.cycle <= fall.cycle for rise, fall in windows), byte
    for rise, fall in windows:
        inside = [b for b in sent if rise.cycle <= b.start and b.cycle <= fall.cycle]
        assert inside[0].start - rise.cycle < byte_time and fall.cycle - inside[-1].cycle < byte_time


def test_usart3_selection_answers_on_usart3_only(core: str) -> None:
    """custom_firmware_serial_port = USART3 (header H1): the firmware answers there, and the
    printer's RS-485 bus (USART1) stays silent."""
    elf = ch32build.firmware(core, "gpio_write", SERIAL_PORT="USART3")
    for bmcu in start(elf, serial="USART3"):
        assert bmcu.ask("PING") == {"ok": 1, "cmd": "PING"}
        assert bmcu.ask("GPIO_WRITE 4 1")["ok"] == 1
        assert not [e for e in bmcu.sim.events if isinstance(e, UartEvent) and e.uart != "USART3"]


def test_reset_restarts_the_board(bmcu: Bmcu) -> None:
    bmcu.reset()
    assert bmcu.ask("PING")["ok"] == 1


def test_every_peripheral_the_firmware_touches_is_modelled(bmcu: Bmcu) -> None:
    for line in ("PING", "GPIO_WRITE 4 1", "GPIO_READ 7 up", "ANALOG_READ A1", "PWM_WRITE 8 10", "DHT_READ 5"):
        bmcu.ask(line)
    assert [e for e in bmcu.sim.events if isinstance(e, UnmodelledEvent)] == []


def test_generator_simulate_serves_the_selected_usart_until_ctrl_c(core: str) -> None:
    """`python -m generator simulate --board bmcu_c --serial-port USART3`: the command behind
    `pio run -e bmcu_c -t simulate` (platform-ch32v), on the env's USART."""
    elf = ch32build.firmware(core, "gpio_write", SERIAL_PORT="USART3")
    proc = subprocess.Popen([helpers.PYTHON, "-m", "generator", "simulate", "--board", "bmcu_c", "--baud", "115200",
                             "--elf", str(elf), "--serial-port", "usart3"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        match = re.fullmatch(r"serial: (/dev/pts/\d+)\n", proc.stdout.readline())
        assert match, "the first line names the pty"
        assert "on USART3" in proc.stdout.readline()
        with BoardClient(match.group(1), 115200, timeout=5.0) as client:
            client.wait_ready(within=30)
            assert client.request("GPIO_WRITE 4 1")["ok"] == 1
        while proc.stdout.readline() != "simulate: pin 4 (PA4) -> 1\n":  # shown live to the user
            assert proc.poll() is None
        os.killpg(proc.pid, signal.SIGINT)
        output = proc.communicate(timeout=30)[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert "simulate: stopped" in output and "Traceback" not in output


def test_generator_simulate_refuses_a_usart_the_board_lacks() -> None:
    result = helpers.run_generator("simulate", "--board", "bmcu_c", "--baud", "115200", "--elf", "x.elf",
                                   "--serial-port", "USART9")
    assert result.returncode != 0
    assert "board 'bmcu_c' has no serial port 'USART9'" in result.stderr and "USART1, USART3" in result.stderr


def test_the_firmware_selects_144_mhz_and_without_the_env_flag_stays_at_8(core: str) -> None:
    """The bmcu_c env's -DSYSCLK_FREQ_144MHz_HSI=144000000 makes SystemInit run the PLL from
    HSI x 18; without it the core leaves the chip on its 8 MHz HSI, which the RCC model shows."""
    for defines, hz in ((None, 144_000_000), ([], 8_000_000)):
        for bmcu in start(ch32build.firmware(core, "gpio_write", defines)):
            assert [e.hz for e in bmcu.sim.events if isinstance(e, ClockEvent)][-1] == hz
