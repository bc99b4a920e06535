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
# os.open's flags for reading a file: binary on Windows, never inherited, and never blocking on a
# FIFO that replaced the file between stat and open.
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)


def read_bounded(path: Path | str, shown: str | None = None) -> bytes:
    """A regular file's bytes, at most MAX_FILE_BYTES. Anything but a regular file (a FIFO, which
    would block the reader forever, a socket, a device) is refused before it is opened. Read
    unbuffered, asking for the size stat reports (plus one byte, to see its end): a buffered
    read(MAX_FILE_BYTES + 1) allocates a megabyte per file, most of the cost of a small one."""
    name = shown or str(path)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise FirmwareError(f"{name}: not a regular file (a FIFO, socket or device)",
                                "remove it, or replace it by the file it stands for")
        fd = os.open(path, _READ_FLAGS)
        try:
            chunks: list[bytes] = []
            total, want = 0, min(info.st_size, MAX_FILE_BYTES) + 1
            while total <= MAX_FILE_BYTES:
                chunk = os.read(fd, min(want, MAX_FILE_BYTES + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
                want = 1 << 16  # the file grew since stat: read on, up to the bound
        finally:
            os.close(fd)
    except OSError as exc:
        raise FirmwareError(f"{name}: cannot read: {exc.strerror}") from None
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if len(data) > MAX_FILE_BYTES:
        raise FirmwareError(f"{name}: larger than {MAX_FILE_BYTES} bytes (rule: a definition file is at most 1 MiB)",
                            "a definition holds declarations and code, not data: remove what does not belong")
    return data


def read_text(path: Path | str, shown: str | None = None) -> str:
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
    return parse_json(read_text(path, name), name)


def parse_json(text: str, name: str) -> Any:
    """load_json's parsing and bounds, for a file's text already read; `name` is the path to print."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FirmwareError(f"{name}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise _too_deep(name) from None  # deeper than the parser's own limit
    # Each level opens with '[' or '{': a text holding at most MAX_JSON_DEPTH of them (a
    # definition has a dozen or two) cannot nest deeper, and its values need no walk.
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and json_depth(data) > MAX_JSON_DEPTH:
        raise _too_deep(name)
    return data


def _too_deep(name: str) -> FirmwareError:
    return FirmwareError(f"{name}: objects and arrays nested more than {MAX_JSON_DEPTH} levels deep "
                         f"(rule: a definition file nests at most {MAX_JSON_DEPTH} levels)",
                         "flatten the file: the schemas need far fewer levels")


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
