"""The journal of a flash in progress: which Klipper units it stopped, when, by which process, and
which wchisp it runs. It lives next to the port's lock (the same key), is written atomically at
every step and removed once Klipper is back. A flash killed with SIGKILL leaves it behind: the
next flash of that port, and `python -m generator flash --restore`, read it.

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
from generator.flash import lock


@dataclass
class Journal:
    """One unfinished flash of `device`."""

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
        return journal_path(self.device)

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


def journal_path(device: str) -> Path:
    return lock.lock_path(device).with_suffix(".journal")


def begin(device: str, port: str) -> Journal:
    """Record that a flash of `device` starts now, in this process."""
    journal = Journal(device=os.path.realpath(device), port=port, pid=os.getpid(),
                      pid_start=process_start(os.getpid()) or "",
                      started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    save(journal)
    return journal


def save(journal: Journal) -> None:
    """Write it atomically (a temporary file renamed over it), so a kill never leaves half of it."""
    path = journal.path
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("w", encoding="utf-8") as out:
            json.dump(asdict(journal), out, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as err:
        temporary.unlink(missing_ok=True)
        raise FirmwareError(
            f"Cannot write the flash journal {path}: {err.strerror}",
            "it may belong to another user's unfinished flash: run `python -m generator flash --restore` "
            "as that user, or remove the file",
        ) from None


def clear(journal: Journal) -> None:
    journal.path.unlink(missing_ok=True)


def read(device: str) -> Journal | None:
    """The journal left for `device`, if any (an unreadable one counts as none)."""
    return _load(journal_path(device))


def pending() -> list[Journal]:
    """Every journal left behind, whatever the port."""
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
    with contextlib.suppress(OSError, ValueError, TypeError):
        return Journal(**json.loads(path.read_text()))
    return None
