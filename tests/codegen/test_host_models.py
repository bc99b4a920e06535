"""Firmware code for chips we cannot run here, compiled as is by the host g++ against models:
CH32V (ch32v_host/): the serial transport's receive code (definitions/transports/src/
serial_ch32v_rx.cpp) on a model of the CH32V20x USART, driven through its interrupt handler, and
the DHT pulse timing (dht_read_ch32v.cpp) on a model of SysTick as the core runs it; ESP8266 and
other cores (generic_host/): the micros()-timed DHT pulse timing (dht_read_generic.cpp) with
interrupts on, an interrupt handler landing anywhere in a bit."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from generator.paths import DEFINITIONS

HERE = Path(__file__).parent
CH32V, GENERIC = HERE / "ch32v_host", HERE / "generic_host"
# driver -> (folder of its models, folder of the code it includes, its scenarios)
DRIVERS = {
    "rx_driver": (CH32V, DEFINITIONS / "transports" / "src", ("reply_while_receiving", "ring_full_counts",
                                                              "hardware_overrun_counted", "no_rxne_no_byte",
                                                              "wraps_in_order")),
    "dht_driver": (CH32V, DEFINITIONS / "commands" / "src", ("zero_bit_shorter", "one_bit_longer",
                                                             "length_in_hclk_counts", "timeout_after_200us",
                                                             "no_timeout_at_190us")),
    "dht_stall_driver": (GENERIC, DEFINITIONS / "commands" / "src", (
        "zero_bit_no_interrupt", "one_bit_no_interrupt", "zero_bit_uart_interrupt", "one_bit_uart_interrupt",
        "zero_bit_9us_interrupt", "one_bit_9us_interrupt", "timeout_after_200us")),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """Each driver's scenario lines, built with -Wall -Wextra -Werror."""
    gxx = shutil.which("g++")
    assert gxx, "g++ is missing: install Debian's g++ to run these checks"
    out: dict[str, dict[str, str]] = {}
    for driver, (models, code, _) in DRIVERS.items():
        exe = tmp_path_factory.mktemp(driver) / driver
        build = subprocess.run([gxx, "-std=gnu++17", "-Wall", "-Wextra", "-Werror", "-I", str(models), "-I", str(code),
                                str(models / f"{driver}.cpp"), "-o", str(exe)],
                               capture_output=True, text=True, timeout=120, check=False)
        assert build.returncode == 0, build.stderr
        run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60, check=False)
        out[driver] = {line.split()[0]: line for line in run.stdout.splitlines()}
    return out


@pytest.mark.parametrize(("driver", "scenario"), [(d, s) for d, (_, _, names) in DRIVERS.items() for s in names])
def test_scenario(results: dict[str, dict[str, str]], driver: str, scenario: str) -> None:
    """Receive: no byte lost while replying or wrapping; ORE and a full ring counted. DHT: pulses
    compared across SysTick's wrap, 200 us timeout; with interrupts on, handlers of up to 9 us
    anywhere in a bit never turn it over."""
    lines = results[driver]
    assert scenario in lines, lines
    assert lines[scenario].split()[1] == "ok", lines[scenario]


def test_generated_sketch_uses_this_code() -> None:
    """The bmcu_c sketch's transport holds this very file and its interrupt handler calls it."""
    from generator.codegen.selection import Selection
    from generator.codegen.sketch import generate

    source = (DEFINITIONS / "transports" / "src" / "serial_ch32v_rx.cpp").read_text(encoding="utf-8")
    for port, handler in (("", "USART1_IRQHandler"), ("usart3", "USART3_IRQHandler")):
        sketch = generate(Selection(board="bmcu_c", transport="serial_standard",
                                    settings={"SERIAL_PORT": port} if port else {}), "s").content
        assert source.strip() in sketch
        assert f'extern "C" void {handler}(void) {{\n  fw_uart_isr();\n}}' in sketch
        assert ".available()" not in sketch.split("#ifdef FW_UART_CORE_RX\n  while")[0]
