"""One PlatformIO env's sketch: src/<env>/<env>.ino, regenerated only when an input changed.

The fast path (nothing changed) stats the input files and reads one small stamp; it imports
neither Jinja2 nor jsonschema, so a no-op `pio run` stays as fast as with a static sketch.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from .output import write_if_changed
from .selection import PREFIX, Selection

INPUT_FOLDERS = ("definitions", "templates", "generator")


@dataclass
class EnvSketch:
    """The outcome for one env: where its sketch is and whether it was (re)written."""

    path: Path
    written: bool
    board: str
    transport: str
    capabilities: list[str]
    hash: str
    warnings: list[str]


def inputs_key(root: Path, env_name: str, pio_board: str, options: Mapping[str, str]) -> str:
    """A digest of the selection and of every generator input file's name, size and mtime."""
    digest = hashlib.sha256()
    chosen = {k: str(v) for k, v in options.items() if k.startswith(PREFIX)}
    digest.update(json.dumps([env_name, pio_board, chosen], sort_keys=True).encode())
    for folder in INPUT_FOLDERS:
        for dirpath, dirnames, filenames in os.walk(root / folder):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            where = os.path.relpath(dirpath, root)
            for name in sorted(filenames):
                stat = os.stat(os.path.join(dirpath, name))
                digest.update(f"{where}/{name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def sketch_path(src_dir: Path, env_name: str) -> Path:
    """Each env builds from its own folder, so envs never see each other's sketch."""
    return src_dir / env_name / f"{env_name}.ino"


def sketch_as_cpp(ino: Path) -> str:
    """The C++ unit PlatformIO compiles for a generated .ino.

    Generated sketches declare everything before use, so unlike hand-written .ino files they
    need no prototypes: the unit is the sketch itself with #line pointing back at it. Being the
    same bytes on every build, it lets SCons skip compiling when nothing changed.
    """
    return f'#include <Arduino.h>\n#line 1 "{ino.as_posix()}"\n' + ino.read_text(encoding="utf-8")


def generate_env(root: Path, src_dir: Path, build_dir: Path, env_name: str, pio_board: str,
                 options: Mapping[str, str]) -> EnvSketch:
    """Make sure <src_dir>/<env>/<env>.ino is the sketch of this env's selection."""
    path = sketch_path(src_dir, env_name)
    stamp = build_dir / "firmware-generator.json"
    key = inputs_key(root, env_name, pio_board, options)
    try:
        saved = json.loads(stamp.read_text())
        if saved["key"] == key and hashlib.sha256(path.read_bytes()).hexdigest() == saved["sketch"]:
            return EnvSketch(path, False, saved["board"], saved["transport"], saved["capabilities"],
                             saved["hash"], saved["warnings"])
    except (OSError, ValueError, KeyError, TypeError):
        pass

    from .sketch import generate  # noqa: PLC0415 - pulls in Jinja2 and jsonschema: slow path only

    selection = Selection.from_platformio(env_name, pio_board, options)
    sketch = generate(selection, env_name, root / "definitions", root / "templates")
    written = write_if_changed(path, sketch.content)
    build_dir.mkdir(parents=True, exist_ok=True)
    write_if_changed(stamp, json.dumps({
        "key": key, "sketch": hashlib.sha256(sketch.content.encode()).hexdigest(),
        "board": sketch.board, "transport": sketch.transport, "capabilities": sketch.capabilities,
        "hash": sketch.hash, "warnings": sketch.warnings,
    }, indent=1))
    return EnvSketch(path, written, sketch.board, sketch.transport, sketch.capabilities, sketch.hash,
                     sketch.warnings)
