"""One flash per port: a second one, from another process, is refused while the first runs."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator.errors import FirmwareError
from generator.flash import lock

HOLD = """
import sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from generator.flash import lock
lock.LOCK_DIR = Path({dir!r})
with lock.port_lock({port!r}, "the port"):
    print("locked", flush=True)
    time.sleep(30)
"""


def test_a_lock_held_by_another_process_refuses_and_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lock, "LOCK_DIR", tmp_path)
    port = tmp_path / "ttyUSB0"
    port.touch()
    alias = tmp_path / "by-id-link"
    alias.symlink_to(port)
    code = HOLD.format(root=str(Path(__file__).parents[2]), dir=str(tmp_path), port=str(port))
    other = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline() == "locked\n"
        with pytest.raises(FirmwareError) as refused:
            with lock.port_lock(str(alias), "by-id-link"):  # another name, same device
                pass
        assert f"pid {other.pid}" in refused.value.message
    finally:
        other.kill()
        other.wait()
    with lock.port_lock(str(alias), "by-id-link") as path:  # free again once the holder is gone
        assert path.read_text() == f"{os.getpid()}\n"
