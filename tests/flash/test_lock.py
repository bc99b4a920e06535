"""One flash per port: a second one, from another process, is refused while the first runs; the
journal of a flash in progress."""
from __future__ import annotations

import os
import stat
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
    monkeypatch.setattr(lock, "LOCK_DIR", tmp_path / "locks")
    key = "/dev/serial/by-id/usb-1a86_USB_Serial_5A1C012345-if00-port0"
    code = HOLD.format(root=str(Path(__file__).parents[2]), dir=str(tmp_path / "locks"), port=key)
    other = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline() == "locked\n"
        with pytest.raises(FirmwareError) as refused:
            with lock.port_lock(key, "the board"):
                pass
        assert f"pid {other.pid}" in refused.value.message
    finally:
        other.kill()
        other.wait()
    with lock.port_lock(key, "the board") as path:  # free again once the holder is gone
        assert path.read_text() == f"{os.getpid()}\n"


def test_files_are_shared_whatever_the_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lock, "LOCK_DIR", tmp_path / "locks")
    old = os.umask(0o077)  # a root shell's strict umask
    try:
        with lock.port_lock("/dev/ttyUSB7", "the board") as path:
            record = journal.begin("/dev/ttyUSB7", "/dev/ttyUSB7", "/dev/ttyUSB7")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "locks").stat().st_mode) == 0o1777
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(record.path.stat().st_mode) == 0o666


def test_a_symlink_in_place_of_a_lock_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lock, "LOCK_DIR", tmp_path / "locks")
    (tmp_path / "locks").mkdir()
    target = tmp_path / "precious"
    target.write_text("keep")
    target.chmod(0o600)
    lock.lock_path("/dev/ttyUSB7").symlink_to(target)  # planted by another user of the sticky folder
    with pytest.raises(FirmwareError, match="Cannot open .*dev_ttyUSB7.lock"):
        with lock.port_lock("/dev/ttyUSB7", "the board"):
            pass
    assert target.read_text() == "keep" and stat.S_IMODE(target.stat().st_mode) == 0o600


def test_the_journal_is_written_in_place_and_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lock, "LOCK_DIR", tmp_path / "locks")
    key = "/dev/serial/by-id/usb-bmcu"
    record = journal.begin(key, "/dev/ttyUSB7", key)
    record.stopped = ["klipper-1.service"]
    record.wchisp_pid, record.wchisp_start = 123456, "999"
    journal.save(record)
    record.wchisp_pid = record.wchisp_start = None
    journal.save(record)  # shorter than before: no tail of the older record is left
    assert sorted(p.name for p in (tmp_path / "locks").iterdir()) == ["dev_serial_by-id_usb-bmcu.journal"]
    (read,) = journal.pending()
    assert read == journal.read(key) == record
    assert read.owner_alive() and read.orphan() is None  # this process wrote it; no wchisp yet
    journal.clear(record)
    assert journal.pending() == [] and journal.read(key) is None


def test_a_journal_naming_other_services_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lock, "LOCK_DIR", tmp_path / "locks")
    record = journal.begin("/dev/ttyUSB7", "/dev/ttyUSB7", "/dev/ttyUSB7")
    record.stopped = ["ssh.service"]  # every user may write it: it must not start anything else
    journal.save(record)
    assert journal.read("/dev/ttyUSB7") is None


def test_a_journal_that_cannot_be_written_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lock, "LOCK_DIR", tmp_path / "locks")
    (tmp_path / "locks").mkdir()
    (tmp_path / "locks" / "dev_ttyUSB7.journal").mkdir()  # not a file
    with pytest.raises(FirmwareError, match="Cannot open .*dev_ttyUSB7.journal") as failed:
        journal.begin("/dev/ttyUSB7", "/dev/ttyUSB7", "/dev/ttyUSB7")
    assert "remove it" in failed.value.hint
    assert [p.name for p in (tmp_path / "locks").iterdir()] == ["dev_ttyUSB7.journal"]
