"""The ESP8266 core's BearSSL built for the host, from ../shared/cores/ (cores/README.md): the
archive is unpacked once into a cache folder (never changed itself) and `make -C tools/sdk/ssl
native` run there."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from testsupport.helpers import ROOT

ARCHIVE = ROOT.parent / "shared" / "cores" / "esp8266-3.1.2-host.tar.xz"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "firmware-generator" / "esp8266-3.1.2"


def core_tree() -> Path | None:
    """The unpacked core (esp8266_3.1.2/), or None when the archive is absent (a user's checkout)."""
    core = CACHE / "esp8266_3.1.2"
    if (core / "tools" / "sdk" / "ssl" / "Makefile").is_file():
        return core
    if not ARCHIVE.is_file():
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = CACHE / "unpacking"
    subprocess.run(["rm", "-rf", str(partial)], check=True)
    partial.mkdir()
    subprocess.run(["tar", "xJf", str(ARCHIVE), "-C", str(partial)], check=True, timeout=600)
    (partial / "esp8266_3.1.2").rename(core)
    partial.rmdir()
    return core


def bearssl_in(core: Path) -> tuple[Path, Path]:
    """(the folder holding bearssl/bearssl.h as the core's sketches include it, libbearssl.a) of
    the core tree `core`, its BearSSL built for the host once (the host emulation's Makefile links
    it when it is there)."""
    lib = core / "tools" / "sdk" / "ssl" / "bearssl" / "build" / "libbearssl.a"
    if not lib.is_file():
        subprocess.run(["make", "-C", str(core / "tools" / "sdk" / "ssl"), "native", "-j2"],
                       check=True, capture_output=True, timeout=1800)
    return core / "tools" / "sdk" / "include", lib


def bearssl() -> tuple[Path, Path] | None:
    """bearssl_in() of the cached core; None without the archive."""
    core = core_tree()
    return None if core is None else bearssl_in(core)
