"""`platformio_override.ini`: local changes to an env, written for the user (by `menuconfig`)
without touching `platformio.ini` and without losing anything else the file holds.

The file is edited line by line: in `[env:NAME]`, the options given are replaced (with their
continuation lines) or added at the end of the section, the options to drop are removed; every
other line (comments, other options, other sections) stays as it was. The section is added
when missing. Written atomically, only when it changes.
"""
from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from generator.errors import FirmwareError
from generator.files import read_text, write_if_changed

OVERRIDE = "platformio_override.ini"
SECTION = re.compile(r"^\s*\[([^\]]+)\]")
OPTION = re.compile(r"^([^\s;#=:][^=:]*?)\s*[=:]")


def override_path(project_dir: Path, extra_patterns: Iterable[str]) -> Path:
    """The project's platformio_override.ini, which platformio.ini must read (its
    `[platformio] extra_configs` names it), else the choice written there would do nothing."""
    if not any(fnmatch.fnmatch(OVERRIDE, pattern) for pattern in extra_patterns):
        raise FirmwareError(f"{project_dir / 'platformio.ini'} does not read {OVERRIDE}",
                            f"add to its [platformio] section: extra_configs = {OVERRIDE}")
    return project_dir / OVERRIDE


def _section_span(lines: list[str], section: str) -> tuple[int, int] | None:
    """[start, end) of `section`'s body (after its header), or None when it is absent."""
    start = None
    for index, line in enumerate(lines):
        match = SECTION.match(line)
        if match and start is not None:
            return start, index
        if match and match.group(1).strip() == section:
            start = index + 1
    return (start, len(lines)) if start is not None else None


def update_env(path: Path, env: str, values: Mapping[str, str], drop: Iterable[str]) -> bool:
    """Set `values` (option -> text) and remove the options `drop` in `[env:ENV]` of `path`;
    True when the file changed."""
    text = read_text(path) if path.exists() else ""
    lines = text.splitlines()
    section = f"env:{env}"
    span = _section_span(lines, section)
    if span is None:
        if lines and lines[-1].strip():
            lines.append("")
        lines += [f"[{section}]", f"; written by `python -m generator menuconfig --env {env}`"]
        span = (len(lines), len(lines))
    start, end = span
    managed = {name.lower() for name in [*values, *drop]}
    body: list[str] = []
    skipping = False
    for line in lines[start:end]:
        match = OPTION.match(line)
        if match:
            skipping = match.group(1).strip().lower() in managed
        elif line.strip() and not line[0].isspace():
            skipping = False  # a comment line ends an option's continuation lines
        continuation = bool(line.strip()) and line[0].isspace()
        if not (skipping and (match or continuation)):
            body.append(line)  # blank lines stay: they part sections and options
    trailing: list[str] = []
    while body and not body[-1].strip():
        trailing.insert(0, body.pop())
    body += [f"{name} = {value}" for name, value in values.items()] + trailing
    lines[start:end] = body
    return write_if_changed(path, "\n".join(lines) + "\n")
