"""One flash per port: a second one, from another process, is refused while the first runs; the
journal of a flash in progress."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator.errors import FirmwareError
from generator.flash import journal, lock

HOLD = """
import sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from generator.flash import journal, lock
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


def test_the_journal_is_written_atomically_and_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lock, "LOCK_DIR", tmp_path / "locks")
    record = journal.begin("/dev/ttyUSB7", "/dev/serial/by-id/usb-bmcu")
    record.stopped = ["klipper-1.service"]
    journal.save(record)
    assert sorted(p.name for p in (tmp_path / "locks").iterdir()) == ["dev_ttyUSB7.journal"]  # no temporary left
    (read,) = journal.pending()
    assert read == journal.read("/dev/ttyUSB7") == record
    assert read.owner_alive() and read.orphan() is None  # this process wrote it; no wchisp yet
    journal.clear(record)
    assert journal.pending() == [] and journal.read("/dev/ttyUSB7") is None


def test_a_journal_that_cannot_be_written_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lock, "LOCK_DIR", tmp_path / "locks")
    (tmp_path / "locks").mkdir()
    (tmp_path / "locks" / "dev_ttyUSB7.journal").mkdir()  # os.replace onto a directory fails
    with pytest.raises(FirmwareError, match="Cannot write the flash journal .*dev_ttyUSB7.journal") as failed:
        journal.begin("/dev/ttyUSB7", "/dev/ttyUSB7")
    assert "--restore" in failed.value.hint
    assert [p.name for p in (tmp_path / "locks").iterdir()] == ["dev_ttyUSB7.journal"]
