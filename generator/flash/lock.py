"""One flash at a time per board: an flock on a file named after the board's stable identity, in a
folder that every user of the host shares (a flash may run as root once and as `pi` the next time).

The folder is sticky and writable by all (1777, like /tmp) and its files are 0666, both set with
chmod after creation so that the umask does not decide; files are opened without O_CREAT when
they exist (fs.protected_regular refuses O_CREAT on another user's file in a sticky folder) and
never through a symlink. A file another user left with other modes is a clear error, never a
traceback.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from generator.errors import FirmwareError

LOCK_DIR = Path(tempfile.gettempdir()) / "generator-flash"
SHARED_DIR = 0o1777
SHARED_FILE = 0o666
_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC


def lock_path(key: str) -> Path:
    """The lock file for a board known by `key` (its by-id link, USB serial number or device)."""
    return LOCK_DIR / (key.strip("/").replace("/", "_") + ".lock")


def owner_of(info: os.stat_result) -> str:
    try:
        return pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        return f"uid {info.st_uid}"


def shared_dir() -> Path:
    """LOCK_DIR, made if need be and shared by every user; FirmwareError if it cannot be used."""
    try:
        LOCK_DIR.mkdir(parents=True, exist_ok=True)
        info = LOCK_DIR.lstat()
    except OSError as err:
        raise FirmwareError(f"Cannot create {LOCK_DIR}: {err.strerror}",
                            f"check {LOCK_DIR.parent}; flashes keep their locks there") from None
    if not stat.S_ISDIR(info.st_mode):
        raise FirmwareError(f"{LOCK_DIR} is not a folder", f"remove it (rm {LOCK_DIR}) and flash again")
    if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) != SHARED_DIR:
        os.chmod(LOCK_DIR, SHARED_DIR)
    elif not os.access(LOCK_DIR, os.W_OK | os.X_OK):
        raise FirmwareError(
            f"{LOCK_DIR} belongs to {owner_of(info)} and is not writable for you "
            f"(mode {stat.S_IMODE(info.st_mode):o})",
            f"let every user flash: sudo chmod 1777 {LOCK_DIR}",
        )
    return LOCK_DIR


def open_shared(path: Path) -> tuple[int, bool]:
    """Open a file of the shared folder, creating it 0666 whatever the umask: (fd, writable). One
    of another user that we may only read is opened read-only (an flock works on it); one we may
    not open at all is a FirmwareError naming its owner."""
    for _ in range(3):  # removed or created by another flash between two attempts: try again
        opened = open_existing(path)
        if opened:
            return opened
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | _NOFOLLOW, SHARED_FILE)
        except FileExistsError:
            continue
        except OSError as err:
            raise FirmwareError(f"Cannot create {path}: {err.strerror}",
                                f"check that {path.parent} is writable for every user (chmod 1777)") from None
        os.fchmod(fd, SHARED_FILE)
        return fd, True
    raise FirmwareError(f"Cannot open {path}: it keeps appearing and disappearing", "flash again")


def open_existing(path: Path) -> tuple[int, bool] | None:
    """Open a file of the shared folder if it is there, as `open_shared` does, without O_CREAT."""
    try:
        return _open_existing(path)
    except FileNotFoundError:
        return None


def _open_existing(path: Path) -> tuple[int, bool]:
    try:
        return os.open(path, os.O_RDWR | _NOFOLLOW), True
    except PermissionError:
        pass
    except FileNotFoundError:
        raise
    except OSError as err:  # ELOOP: a symlink put there
        raise _foreign(path, err) from None
    try:
        return os.open(path, os.O_RDONLY | _NOFOLLOW), False
    except FileNotFoundError:
        raise
    except OSError as err:
        raise _foreign(path, err) from None


def _foreign(path: Path, err: OSError) -> FirmwareError:
    try:
        info = path.lstat()
        whose = f" (it belongs to {owner_of(info)}, mode {stat.S_IMODE(info.st_mode):o})"
    except OSError:
        whose = ""
    return FirmwareError(
        f"Cannot open {path}{whose}: {err.strerror}",
        f"if no flash is running, remove it (sudo rm {path}); flashes from now on share it with every user",
    )


@contextlib.contextmanager
def port_lock(key: str, name: str) -> Iterator[Path]:
    """Hold the lock of the board `key` for the block; refuse at once if someone else holds it."""
    shared_dir()
    path = lock_path(key)
    fd, writable = open_shared(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise FirmwareError(
                f"Another flash is already running on {name} (pid {holder})",
                f"wait for it to finish; the lock is {path}",
            ) from None
        if writable:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)
