"""Signals during a real flash process: `python -m generator flash`'s code in a subprocess, with
wchisp stuck mid-write, is sent SIGTERM, SIGHUP or a Ctrl-C; Klipper must come back, after wchisp
has ended, and the process must say what happened."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from testsupport.fakes.board import FakeBoard
from testsupport.fakes.fixtures import *  # noqa: F403 - the fixtures
from testsupport.fakes.fixtures import FakeSystem
from testsupport.fakes.flashproc import read_until, start_flash
from testsupport.fakes.moonraker import FakeMoonraker


def start(project: Path, image: Path, board: FakeBoard, moonraker: FakeMoonraker) -> subprocess.Popen[str]:
    return start_flash(project, "--firmware", str(image), "--device", board.path, "--moonraker", moonraker.url)


@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP", "Ctrl-C"])
def test_klipper_comes_back_when_the_flash_is_signalled(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, image: Path, tmp_path: Path, how: str
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    fake_system.configure(wchisp={"hang": True})
    process = start(tmp_path / "project", image, board, moonraker)
    watchdog = threading.Timer(300, process.kill)  # only if it hangs: never bounds a slow machine
    watchdog.start()
    try:
        read_until(process, "Writing to code flash...")  # wchisp's own output, live
        assert fake_system.unit("klipper.service")["state"] == "inactive"
        if how == "Ctrl-C":  # the terminal signals the whole foreground group, wchisp included
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(getattr(signal, how))
        out, err = process.communicate()
    finally:
        watchdog.cancel()
    assert process.returncode == 1
    assert f"error: Flash interrupted by {how}; the board may hold a partial image" in err
    assert "Traceback" not in err
    assert "flash: klipper.service is running again" in out
    steps = [s for s in fake_system.steps() if s.startswith(("moonraker", "wchisp"))]
    assert steps[0] == "moonraker stop klipper" and steps[-1] == "moonraker start klipper"
    assert steps[-2].startswith("wchisp killed by")  # wchisp had ended before Klipper was started
    if how == "Ctrl-C":
        assert "wchisp killed by SIGINT" in steps  # the terminal's SIGINT reached it too
    assert fake_system.unit("klipper.service")["state"] == "active"
    assert "interrupted: wchisp terminated" in (tmp_path / "project" / ".pio" / "flash" / "wchisp.log").read_text()


def test_a_second_signal_does_not_cut_the_restart_short(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, image: Path, tmp_path: Path
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    fake_system.configure(wchisp={"hang": True}, moonraker={"action_delay": 0.5})
    process = start(tmp_path / "project", image, board, moonraker)
    watchdog = threading.Timer(300, process.kill)  # only if it hangs: never bounds a slow machine
    watchdog.start()
    try:
        read_until(process, "Writing to code flash...")
        process.send_signal(signal.SIGTERM)
        read_until(process, "flash: starting klipper.service again")
        process.send_signal(signal.SIGTERM)  # an impatient second `kill`
        out, err = process.communicate()
    finally:
        watchdog.cancel()
    assert "flash: SIGTERM received; Klipper is put back first" in out
    assert "flash: klipper.service is running again" in out
    assert process.returncode == 1 and "error: Flash interrupted by SIGTERM" in err
    assert fake_system.unit("klipper.service")["state"] == "active"
