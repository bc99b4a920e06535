"""The serial transport's CH32V receive code (definitions/transports/src/serial_ch32v_rx.cpp),
compiled as is by the host g++ against a model of the CH32V20x USART (ch32v_rx/usart_model.h,
from WCH's peripheral library in the core) and driven through its interrupt handler."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from generator.paths import DEFINITIONS

HERE = Path(__file__).parent / "ch32v_rx"
SCENARIOS = ("reply_while_receiving", "ring_full_counts", "hardware_overrun_counted", "no_rxne_no_byte",
             "wraps_in_order")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each scenario's line of the driver's output, compiled with -Wall -Wextra -Werror."""
    gxx = shutil.which("g++")
    assert gxx, "g++ is missing: install Debian's g++ to run these checks"
    exe = tmp_path_factory.mktemp("rx") / "rx_driver"
    build = subprocess.run([gxx, "-std=gnu++17", "-Wall", "-Wextra", "-Werror", "-I", str(HERE),
                            "-I", str(DEFINITIONS / "transports" / "src"), str(HERE / "rx_driver.cpp"), "-o", str(exe)],
                           capture_output=True, text=True, timeout=120, check=False)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60, check=False)
    return {line.split()[0]: line for line in run.stdout.splitlines()}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_receive_scenario(results: dict[str, str], scenario: str) -> None:
    """No byte lost while replying or while the ring wraps; ORE and a full ring are counted."""
    assert scenario in results, results
    assert results[scenario].split()[1] == "ok", results[scenario]


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
