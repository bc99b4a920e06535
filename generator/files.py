"""Files the generator reads and writes: definition files (JSON with errors that name file, line and
column; bounded in size and nesting) and generated files written atomically, only when their
content changes."""
from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from generator.errors import FirmwareError

# Bounds on every definition file read (the shipped ones are under 5 KB and 8 levels deep): a file
# beyond them is refused by name, before it can exhaust memory or Python's recursion limit.
MAX_FILE_BYTES = 1 << 20
MAX_JSON_DEPTH = 32


def read_bounded(path: Path, shown: str | None = None) -> bytes:
    """A regular file's bytes, at most MAX_FILE_BYTES. Anything but a regular file (a FIFO, which
    would block the reader forever, a socket, a device) is refused before it is opened."""
    name = shown or str(path)
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise FirmwareError(f"{name}: not a regular file (a FIFO, socket or device)",
                                "remove it, or replace it by the file it stands for")
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise FirmwareError(f"{name}: cannot read: {exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise FirmwareError(f"{name}: larger than {MAX_FILE_BYTES} bytes (rule: a definition file is at most 1 MiB)",
                            "a definition holds declarations and code, not data: remove what does not belong")
    return data


def read_text(path: Path, shown: str | None = None) -> str:
    """A UTF-8 text file's content, bounded as `read_bounded` bounds it."""
    name = shown or str(path)
    try:
        return read_bounded(path, name).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FirmwareError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def json_depth(value: Any) -> int:
    """How deeply objects and arrays nest in a parsed JSON value (a scalar: 0), without recursion."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, level)
            todo.extend((child, level + 1) for child in children)
    return deepest


def load_json(path: Path, shown: str | None = None) -> Any:
    """Parse a JSON file; a syntax error names path:line:column (`shown` is the path to print).
    Objects and arrays nested deeper than MAX_JSON_DEPTH are refused naming the file: the parser,
    the schema validator and the rules all recurse, and Python's recursion limit is a crash."""
    name = shown or str(path)
    text = read_text(path, name)
    too_deep = FirmwareError(f"{name}: objects and arrays nested more than {MAX_JSON_DEPTH} levels deep "
                             f"(rule: a definition file nests at most {MAX_JSON_DEPTH} levels)",
                             "flatten the file: the schemas need far fewer levels")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FirmwareError(f"{name}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise too_deep from None  # deeper than the parser's own limit
    if json_depth(data) > MAX_JSON_DEPTH:
        raise too_deep
    return data


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
