"""One PlatformIO env's sketch: src/<env>/<env>.ino, regenerated only when an input changed.

The key of a generation is a digest of the selection and of the content of every file
generation reads: definitions/, templates/, and the Python modules of the code generator. The
fast path (key unchanged, sketch intact) reads those files and one small stamp; it imports
neither Jinja2 nor jsonschema, nor the selection and platformio.ini modules, and walks the files
as strings (no Path per file), so a no-op `pio run` stays as fast as with a static sketch.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import astuple, dataclass
from pathlib import Path

from generator.errors import FirmwareError
from generator.files import read_bounded, write_if_changed
from generator.identity import FirmwareIdentity
from generator.paths import CODEGEN, DEFINITIONS, ROOT, TEMPLATES, sketch_path, stamp_path
from generator.pioenv.options import EnvOptions, Hardware

PACKAGE = CODEGEN.parent
# What generation reads: the data, the templates, the code generator and the modules it imports.
INPUTS = (TEMPLATES, CODEGEN, PACKAGE / "protocol", *(PACKAGE / f"{name}.py" for name in
                                            ("__init__", "errors", "files", "identity", "paths", "values")))


@dataclass(frozen=True)
class GeneratedEnv:
    """An env's generated sketch: where it is, what it is, and what this generation said."""

    path: Path
    written: bool           # False when the sketch already held exactly this content
    identity: FirmwareIdentity
    capabilities: list[str]  # uppercase, as INFO sends them
    baud_rate: int | None
    warnings: list[str]


@dataclass(frozen=True)
class Stamp:
    """What the last generation of an env recorded: its key, the sketch's digest and what the
    sketch is, so that the fast path can answer without generating."""

    key: str
    sketch_sha256: str
    identity: FirmwareIdentity
    capabilities: list[str]
    baud_rate: int | None
    warnings: list[str]

    @classmethod
    def load(cls, path: Path) -> Stamp | None:
        """The stamp at `path`, or None when it is missing or unreadable (then: generate)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(key=data["key"], sketch_sha256=data["sketch_sha256"],
                       identity=FirmwareIdentity.from_json(data["identity"]), capabilities=data["capabilities"],
                       baud_rate=data["baud_rate"], warnings=data["warnings"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, path: Path) -> None:
        write_if_changed(path, json.dumps({
            "key": self.key, "sketch_sha256": self.sketch_sha256, "identity": self.identity.to_json(),
            "capabilities": self.capabilities, "baud_rate": self.baud_rate, "warnings": self.warnings,
        }, indent=1))

    def result(self, path: Path, written: bool) -> GeneratedEnv:
        return GeneratedEnv(path, written, self.identity, self.capabilities, self.baud_rate, self.warnings)


def input_files(definitions: Sequence[Path] = (DEFINITIONS,)) -> Iterator[str]:
    """Every file generation reads, in a stable order; links followed, caches and editors'
    dangling lock links skipped, anything that is not a regular file refused unopened."""
    for top in map(str, (*definitions, *INPUTS)):
        if os.path.isfile(top):
            yield top
            continue
        for dirpath, dirnames, filenames in os.walk(top, followlinks=True):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                try:
                    mode = os.stat(path).st_mode
                except FileNotFoundError:
                    continue  # a dangling link, such as Emacs' .#name lock: nothing to read
                if not stat.S_ISREG(mode):
                    raise FirmwareError(f"{path}: not a regular file (a FIFO, socket or device) "
                                        "among the generator's inputs", "remove it")
                yield path


def inputs_key(options: EnvOptions, hardware: Hardware, definitions: Sequence[Path] = (DEFINITIONS,)) -> str:
    """A digest of the selection, the env's hardware and the content of every file generation
    reads, each named as its path relative to the checkout (else as it is)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([options.name, astuple(hardware), options.firmware(), options.inherited()],
                             sort_keys=True).encode())
    inside = os.path.join(ROOT, "")  # a path under ROOT starts with it (ROOT and walked paths are normalised)
    for path in input_files(definitions):
        shown = path[len(inside):] if path.startswith(inside) else path
        content = read_bounded(path, shown)
        digest.update(f"{shown}:{len(content)}\n".encode())
        digest.update(content)
    return digest.hexdigest()


def sketch_as_cpp(ino: Path) -> str:
    """The C++ unit PlatformIO compiles for a generated .ino.

    Generated sketches declare everything before use, so unlike hand-written .ino files they
    need no prototypes: the unit is the sketch itself with #line pointing back at it. Being the
    same bytes on every build, it lets SCons skip compiling when nothing changed.
    """
    return f'#include <Arduino.h>\n#line 1 "{ino.as_posix()}"\n' + ino.read_text(encoding="utf-8")


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def generate_env(src_dir: Path, build_dir: Path, options: EnvOptions, hardware: Hardware,
                 definitions: Sequence[Path] = (DEFINITIONS,)) -> GeneratedEnv:
    """Make sure <src_dir>/<env>/<env>.ino is the sketch of this env's selection."""
    path = sketch_path(src_dir, options.name)
    stamp_file = stamp_path(build_dir)
    key = inputs_key(options, hardware, definitions)
    saved = Stamp.load(stamp_file)
    if saved and saved.key == key and _sha256(path) == saved.sketch_sha256:
        return saved.result(path, written=False)

    from generator.codegen.selection import Selection  # noqa: PLC0415 - slow path only, as all below
    from generator.codegen.sketch import generate  # noqa: PLC0415 - Jinja2 and jsonschema
    from generator.pioenv.inifile import env_vars  # noqa: PLC0415 - platformio.ini read raw

    selection = Selection.from_platformio(options.name, hardware.board, options.firmware(), mcu=hardware.mcu,
                                          platform=hardware.platform, inherited=options.inherited(),
                                          env_vars=env_vars(options))
    sketch = generate(selection, options.name, list(definitions))
    written = write_if_changed(path, sketch.content)
    stamp = Stamp(key=key, sketch_sha256=hashlib.sha256(sketch.content.encode()).hexdigest(),
                  identity=sketch.identity, capabilities=sketch.capabilities, baud_rate=sketch.baud_rate,
                  warnings=sketch.warnings)
    stamp.save(stamp_file)
    return stamp.result(path, written)


_HELD: list[int] = []  # lock descriptors, open until the build's process ends


def lock_env_build(build_dir: Path, env_name: str) -> Path:
    """Let one build of an env run at a time, for the rest of this process.

    Two `pio run -e ENV` at once would share src/<env>/<env>.ino.cpp, which each removes at exit
    while the other may still compile it. The flock is taken before generation and released by
    the system when the build's process exits, after its exit handlers removed the .ino.cpp.
    """
    path = build_dir / "firmware-generator.lock"
    try:
        build_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise FirmwareError(f"{path}: cannot create the build lock: {exc.strerror}",
                            f"check the permissions of {build_dir}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"firmware: waiting for the other build of [env:{env_name}] to finish (a build, upload, "
              f"monitor or simulate of this env; lock {path})", flush=True)
        fcntl.flock(fd, fcntl.LOCK_EX)
    _HELD.append(fd)
    return path
