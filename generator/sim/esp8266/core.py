"""The esp8266/Arduino core's "emulation on host" (`tests/host`), fixed and built once.

`HostCore.prepare()` puts a copy of the core (an archive such as `esp8266-3.1.2-host.tar.xz`, or the
core's folder) into a cache folder named after its content and the fixes, applies `fixes.FIXES` to
that copy (never to the source), and `build()` compiles a sketch there with the core's own Makefile
(`make -C tests/host FORCE32=0`, the host's g++): the emulated core once (about 1.5 min of CPU),
then each sketch in seconds, each binary kept under its sketch's content hash.
"""
from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from generator.errors import FirmwareError
from generator.sim.esp8266 import fixes

HOST_DIR = Path("tests") / "host"
READY = ".fixed-and-unpacked"
# Pythons with PEP 706 (3.12, and 3.9-3.11 since their 2023 security releases) refuse members that
# would land outside the folder; older ones extract as they always did.
_SAFE_EXTRACT: dict[str, Any] = {"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}


def _say(text: str) -> None:
    print(text, flush=True)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created): one preparation or build at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _source_key(source: Path) -> str:
    """What identifies the fixed copy: the fixes' passages, and the source's content (an archive's
    bytes, or a folder's files: names, sizes and times, below what the host build reads)."""
    digest = hashlib.sha256(repr([(fix.path, fix.old, fix.new) for fix in fixes.FIXES]).encode())
    if source.is_file():
        with open(source, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()[:16]
    for part in ("cores", "libraries", "tests/host", "tools/sdk"):
        for path in sorted((source / part).rglob("*")):
            if path.is_file():
                stat = path.stat()
                digest.update(f"{path.relative_to(source)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _core_root(folder: Path) -> Path:
    """The folder holding `tests/host/Makefile` in an unpacked archive (itself or its one child)."""
    for candidate in (folder, *sorted(p for p in folder.iterdir() if p.is_dir())):
        if (candidate / HOST_DIR / "Makefile").is_file():
            return candidate
    raise FirmwareError(f"no {HOST_DIR}/Makefile in {folder}",
                        "give the esp8266/Arduino core (3.1.2) with its tests/host folder")


def _prune(cache: Path, keep: Path) -> None:
    """Remove the copies of other contents (an older core or older fixes, 60 MB each) that no
    one is preparing or building with right now."""
    for other in cache.glob("core-*"):
        if other == keep or not other.is_dir():
            continue
        with open(cache / f"{other.name}.lock", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            shutil.rmtree(other, ignore_errors=True)
            (cache / f"{other.name}.lock").unlink(missing_ok=True)


class HostCore:
    """A fixed copy of the core's host emulation, ready to build sketches."""

    def __init__(self, root: Path) -> None:
        self.root = root  # the core's top folder (cores/, libraries/, tests/host/ ...)

    @classmethod
    def prepare(cls, source: Path, cache: Path, say: Callable[[str], None] = _say) -> HostCore:
        """The fixed copy of `source` (an archive or the core's folder) in `cache`, made once."""
        if not source.exists():
            raise FirmwareError(f"{source} does not exist", "give the esp8266/Arduino core (3.1.2) "
                                "archive or folder that holds tests/host")
        place = cache / f"core-{_source_key(source)}"
        with _locked(cache / f"{place.name}.lock"):
            if not (place / READY).is_file():
                say(f"esp8266-host: copying {source.name} to {place} and fixing its mocks")
                shutil.rmtree(place, ignore_errors=True)
                staging = Path(tempfile.mkdtemp(prefix=f".staging-{place.name}.", dir=cache))
                try:
                    if source.is_file():
                        with tarfile.open(source) as archive:
                            archive.extractall(staging / "core", **_SAFE_EXTRACT)
                    else:
                        shutil.copytree(source, staging / "core", symlinks=True)
                    fixes.apply_fixes(_core_root(staging / "core"))
                    (staging / READY).write_text(str(source) + "\n", encoding="utf-8")
                    staging.rename(place)
                except BaseException:
                    shutil.rmtree(staging, ignore_errors=True)
                    raise
                _prune(cache, keep=place)
        return cls(_core_root(place / "core"))

    @property
    def host_dir(self) -> Path:
        return self.root / HOST_DIR

    def bearssl(self, say: Callable[[str], None] = _say) -> tuple[Path, Path]:
        """(the folder sketches include <bearssl/bearssl.h> from, libbearssl.a): the core's own
        BearSSL (tools/sdk/ssl, what the chip links) built for the host once."""
        with _locked(self.root.parent.parent / "build.lock"):
            return self._bearssl(say)

    def _bearssl(self, say: Callable[[str], None]) -> tuple[Path, Path]:
        """bearssl(), the build lock held. The host Makefile links the library when it exists."""
        lib = self.root / "tools" / "sdk" / "ssl" / "bearssl" / "build" / "libbearssl.a"
        if not lib.is_file():
            say("esp8266-host: building the core's BearSSL for the host once (about 1 min of CPU)")
            done = subprocess.run(["make", "-C", str(self.root / "tools" / "sdk" / "ssl"), "native", "-j2"],
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0 or not lib.is_file():
                raise FirmwareError(f"building the core's BearSSL (make -C tools/sdk/ssl native) failed:\n"
                                    f"{done.stderr[-2000:]}")
        return self.root / "tools" / "sdk" / "include", lib

    def build(self, sketch: Path, say: Callable[[str], None] = _say, jobs: int = 2) -> Path:
        """The host binary of `sketch` (an .ino file), built unless one of the same content is."""
        content = sketch.read_bytes()
        key = hashlib.sha256(content).hexdigest()[:16]
        name = sketch.stem
        folder = self.root.parent.parent / "sketches" / key / name  # in the core's place
        # The Makefile puts the binary at bin/<the sketch folder's absolute path>/<name>.
        binary = self.host_dir / "bin" / folder.relative_to("/") / name
        place = self.root.parent.parent
        with _locked(place.parent / f"{place.name}.lock"):
            if binary.is_file():
                return binary
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{name}.ino").write_bytes(content)
            if b"<bearssl/bearssl.h>" in content:  # wifi_tcp with a key
                self._bearssl(say)
            if not (self.host_dir / "bin" / "fullcore.a").is_file():
                say("esp8266-host: building the emulated core once (about 1.5 min of CPU)")
            say(f"esp8266-host: building {sketch.name} for the host")
            log = folder / "build.log"
            with open(log, "w", encoding="utf-8") as output:
                done = subprocess.run(["make", "-C", str(self.host_dir), f"-j{jobs}", "FORCE32=0", "R=noexec",
                                       str(folder / name)], stdout=output, stderr=subprocess.STDOUT, check=False)
            if done.returncode != 0 or not binary.is_file():
                binary.unlink(missing_ok=True)
                tail = "".join(log.read_text(encoding="utf-8", errors="replace").splitlines(True)[-25:])
                raise FirmwareError(f"building {sketch} under the esp8266 host emulation failed "
                                    f"(make exit {done.returncode}; whole log: {log}):\n{tail}")
        return binary

