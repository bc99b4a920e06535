"""Files the generator reads and writes: JSON with errors that name file, line and column, and
generated files written atomically, only when their content changes."""
from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from generator.errors import FirmwareError


def read_text(path: Path, shown: str | None = None) -> str:
    """A UTF-8 text file's content. Anything but a regular file (a FIFO, which would block the
    reader forever, a socket, a device) is refused before it is opened."""
    name = shown or str(path)
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise FirmwareError(f"{name}: not a regular file (a FIFO, socket or device)",
                                "remove it, or replace it by the file it stands for")
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FirmwareError(f"{name}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise FirmwareError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def load_json(path: Path, shown: str | None = None) -> Any:
    """Parse a JSON file; a syntax error names path:line:column (`shown` is the path to print)."""
    name = shown or str(path)
    text = read_text(path, name)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FirmwareError(f"{name}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_if_changed(path: Path, content: str) -> bool:
    """Write `content` to `path` unless it already holds exactly that; True when written.

    The new content goes to a temporary file in the same folder first and is then renamed over
    the target, so a reader (or an interrupted build) never sees a half-written file.
    """
    data = content.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return False
    except (FileNotFoundError, NotADirectoryError):
        pass  # not there yet: written below
    except OSError as exc:
        raise FirmwareError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise FirmwareError(f"{path}: cannot write: {exc.strerror}",
                            f"check the permissions of {path.parent}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException as exc:
        os.unlink(tmp)
        if isinstance(exc, OSError):
            raise FirmwareError(f"{path}: cannot write: {exc.strerror}") from None
        raise
    return True
