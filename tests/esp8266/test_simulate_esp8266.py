"""`python -m generator simulate --board d1_mini --sketch ... --core ...`, and what `-t simulate`
runs for an ESP8266 env: the core PlatformIO installed, when it carries tests/host."""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from generator.errors import FirmwareError
from generator.glue import simulate_command
from generator.host.client import BoardClient
from generator.identity import FirmwareIdentity
from generator.pioenv.envsketch import GeneratedEnv
from testsupport import esp8266host, helpers


def generated(board: str, sketch: Path) -> GeneratedEnv:
    return GeneratedEnv(sketch, False, FirmwareIdentity(board, "wifi_tcp", "0.1.0", "0" * 8, []), [], 115200, [])


def test_simulate_serves_the_sketch_on_a_pty_until_ctrl_c(esp8266_workspace: Path) -> None:
    esp8266host.binary("serial_standard", esp8266_workspace)  # built (or found) in the cache the command uses
    sketch = esp8266_workspace / "serial_standard" / "d1_mini_serial_standard.ino"
    proc = subprocess.Popen([helpers.PYTHON, "-m", "generator", "simulate", "--board", "d1_mini", "--sketch",
                             str(sketch), "--core", str(esp8266host.ARCHIVE), "--cache", str(esp8266host.CACHE)],
                            cwd=helpers.ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        with BoardClient(helpers.printed_serial_port(proc), 115200, timeout=3.0) as client:
            client.wait_ready(10.0)
            assert client.info().board == "wemos_d1_mini"
        os.killpg(proc.pid, signal.SIGINT)
        output = proc.communicate(timeout=30)[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0 and "simulate: stopped" in output and "Traceback" not in output


def test_the_target_runs_the_sketch_on_the_installed_core(tmp_path: Path) -> None:
    core = tmp_path / "framework-arduinoespressif8266"
    (core / "tests" / "host").mkdir(parents=True)
    (core / "tests" / "host" / "Makefile").write_text("")
    command = simulate_command(generated("wemos_d1_mini", tmp_path / "d1_mini.ino"), "firmware.elf", str(core),
                               str(tmp_path))
    assert command == (f'exec "$PYTHONEXE" -m generator simulate --board wemos_d1_mini --sketch '
                       f'"{tmp_path / "d1_mini.ino"}" --core "{core}" --cache "{tmp_path / ".pio" / "esp8266-host"}"')


def test_the_target_says_why_not_when_the_installed_core_has_no_emulation(tmp_path: Path) -> None:
    with pytest.raises(FirmwareError, match="has none") as error:
        simulate_command(generated("wemos_d1_mini", tmp_path / "d1_mini.ino"), "firmware.elf", str(tmp_path), ".")
    assert "python -m generator simulate --board wemos_d1_mini --sketch" in str(error.value)
