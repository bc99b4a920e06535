"""One flash at a time per serial port: an flock on a file named after the port's real path."""
from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from generator.errors import FirmwareError

LOCK_DIR = Path(tempfile.gettempdir()) / "generator-flash"


def lock_path(device: str) -> Path:
    """The lock file for a port, keyed by its real path so that every alias shares it."""
    return LOCK_DIR / (os.path.realpath(device).strip("/").replace("/", "_") + ".lock")


@contextlib.contextmanager
def port_lock(device: str, name: str) -> Iterator[Path]:
    """Hold the port's lock for the duration of the block; refuse at once if someone else holds it."""
    path = lock_path(device)
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        path.parent.chmod(0o1777)  # shared by every user who flashes, like /tmp
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise FirmwareError(
                f"Another flash is already running on {name} (pid {holder})",
                f"wait for it to finish; the lock is {path}",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)
