"""Reading JSON files with errors that name the file, line and column."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import FirmwareError


def load_json(path: Path) -> Any:
    """Parse a JSON file; a syntax error names path:line:column."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FirmwareError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise FirmwareError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FirmwareError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
