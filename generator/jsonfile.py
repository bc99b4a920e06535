"""Reading JSON files with errors that name the file, line and column."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import FirmwareError


def load_json(path: Path, shown: str | None = None) -> Any:
    """Parse a JSON file; a syntax error names path:line:column (`shown` is the path to print)."""
    name = shown or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FirmwareError(f"{name}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise FirmwareError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FirmwareError(f"{name}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
