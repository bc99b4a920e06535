"""The fixed copy of the ESP8266 core's host emulation: made from the archive without touching it,
refused when a passage a fix replaces is not there, older copies pruned unless in use."""
from __future__ import annotations

import fcntl
import hashlib
from pathlib import Path

import pytest

from generator.errors import FirmwareError
from generator.sim.esp8266 import fixes
from generator.sim.esp8266.core import HostCore
from testsupport import esp8266host


def test_the_copy_is_fixed_and_the_archive_untouched(tmp_path: Path) -> None:
    archive = esp8266host.need_archive()
    before = hashlib.sha256(archive.read_bytes()).hexdigest()
    stale, busy = tmp_path / "core-0123456789abcdef", tmp_path / "core-fedcba9876543210"
    (stale / "core").mkdir(parents=True)
    (busy / "core").mkdir(parents=True)
    with open(tmp_path / f"{busy.name}.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another session builds with that copy right now
        core = HostCore.prepare(archive, tmp_path, say=lambda _: None)
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == before
    server = (core.host_dir / "common" / "MockWiFiServerSocket.cpp").read_text()
    assert "htonl(INADDR_LOOPBACK)" in server and "global_source_address" not in server
    assert not stale.exists() and busy.is_dir()
    assert HostCore.prepare(archive, tmp_path, say=lambda _: None).root == core.root  # made once


def test_a_core_without_a_passage_a_fix_replaces_is_refused(tmp_path: Path) -> None:
    tree = tmp_path / "core"
    for fix in fixes.FIXES:
        (tree / fix.path).parent.mkdir(parents=True, exist_ok=True)
        (tree / fix.path).write_text("")
    with pytest.raises(FirmwareError, match="cores/esp8266/spi_vendors.h: the passage a host-emulation fix replaces"):
        fixes.apply_fixes(tree)
