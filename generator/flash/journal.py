"""The journal of a flash in progress: which Klipper units it stopped, when, by which process, and
which wchisp it runs. It lives next to the board's lock, under the same key: the board's stable
identity (its /dev/serial/by-id link or USB serial number), so that a board plugged back in under
another /dev/ttyUSBn is still recognised. It is written at every step and emptied once Klipper is
back. A flash killed with SIGKILL leaves it behind: the next flash of that board, and
`python -m generator flash --restore`, read it, whichever user they run as.

It is one shared file (see `lock`), rewritten in place under the board's lock: one pwrite of under
a page (which a SIGKILL cannot cut in two), padded with spaces to the old length so that no tail
of an older, longer record survives; emptied rather than removed, since in the sticky folder only
its owner could remove it.

It lives in the temporary directory on purpose: a reboot, which clears it, also starts enabled
Klipper units and ends any wchisp, so there is nothing left to put back.
"""
from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from generator.errors import FirmwareError
from generator.flash import klipper, lock


@dataclass
class Journal:
    """One unfinished flash of the board known by `key`, on `device` (its real path then)."""

    key: str
    device: str
    port: str
    pid: int
    pid_start: str  # the process's start time, so that a reused pid is not taken for it
    started: str  # UTC, ISO 8601
    stopped: list[str] = field(default_factory=list)
    wchisp_pid: int | None = None
    wchisp_start: str | None = None

    @property
    def path(self) -> Path:
        return journal_path(self.key)

    def describe(self) -> str:
        units = ", ".join(self.stopped) or "no Klipper unit"
        return f"the flash of {self.port} started {self.started} by pid {self.pid} (it had stopped {units})"

    def owner_alive(self) -> bool:
        return process_start(self.pid) == self.pid_start

    def orphan(self) -> str | None:
        """The wchisp that flash started, if it still runs: `pid N: command line`."""
        if self.wchisp_pid is None or process_start(self.wchisp_pid) != self.wchisp_start:
            return None
        try:
            command = Path(f"/proc/{self.wchisp_pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace").strip()
        except OSError:
            return None
        return f"pid {self.wchisp_pid}: {command[:160]}"


def journal_path(key: str) -> Path:
    return lock.lock_path(key).with_suffix(".journal")


def begin(key: str, device: str, port: str) -> Journal:
    """Record that a flash of the board `key` (now on `device`, shown as `port`) starts now, here."""
    journal = Journal(key=key, device=os.path.realpath(device), port=port, pid=os.getpid(),
                      pid_start=process_start(os.getpid()) or "",
                      started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    save(journal)
    return journal


def save(journal: Journal) -> None:
    """Write it in place in one write of under a page, padded over what was there."""
    _write(journal.path, json.dumps(asdict(journal), indent=1).encode())


def clear(journal: Journal) -> None:
    """Empty it: nothing is left to put back."""
    _write(journal.path, b"")


def _write(path: Path, data: bytes) -> None:
    if len(data) >= _PAGE:
        raise FirmwareError(f"The flash journal {path} would take {len(data)} bytes", "this is a bug: report it")
    lock.shared_dir()
    fd, writable = lock.open_shared(path)
    try:
        if not writable:
            raise FirmwareError(
                f"Cannot write the flash journal {path}: it belongs to {lock.owner_of(os.fstat(fd))} "
                "and is not writable for you",
                "it may belong to another user's unfinished flash: run `python -m generator flash --restore` "
                "as that user, or remove the file",
            )
        old = os.fstat(fd).st_size
        os.pwrite(fd, data.ljust(min(old, _PAGE - 1)), 0)  # spaces over an older, longer record
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    except OSError as err:
        raise FirmwareError(f"Cannot write the flash journal {path}: {err.strerror}",
                            "check the free space and permissions of that folder") from None
    finally:
        os.close(fd)


def read(key: str) -> Journal | None:
    """The journal left for the board `key`, if any."""
    return _load(journal_path(key))


def pending() -> list[Journal]:
    """Every journal left behind, whatever the board."""
    found = [_load(path) for path in sorted(lock.LOCK_DIR.glob("*.journal"))] if lock.LOCK_DIR.is_dir() else []
    return [journal for journal in found if journal]


def process_start(pid: int) -> str | None:
    """The start time of `pid` in clock ticks since boot (/proc/PID/stat field 22); None if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else fields[19]


def _load(path: Path) -> Journal | None:
    """The journal in `path`: None if there is none, or if it is empty, unreadable as JSON, or names
    anything but Klipper units (it is writable by every user: it must not start other services).
    One another user keeps from us is a FirmwareError naming its owner."""
    opened = lock.open_existing(path)
    if opened is None:
        return None
    fd, _ = opened
    try:
        raw = os.pread(fd, _PAGE, 0)
    except OSError as err:
        raise FirmwareError(f"Cannot read the flash journal {path}: {err.strerror}", "remove it if no flash runs") \
            from None
    finally:
        os.close(fd)
    with contextlib.suppress(ValueError, TypeError):
        journal = Journal(**json.loads(raw)) if raw.strip() else None
        if journal and all(klipper.is_klipper_unit(unit) for unit in journal.stopped):
            return journal
    return None


_PAGE = 4096
