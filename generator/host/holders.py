"""Which processes hold a serial port open (from /proc/*/fd), as Katapult checks before flashing."""
from __future__ import annotations

import os
import time
from pathlib import Path

POLL_INTERVAL = 0.2


def port_holders(device: str) -> list[str]:
    """Other processes with the port open, as `pid N (unit): command line` (from /proc/*/fd)."""
    real = os.path.realpath(device)
    holders = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if any(os.readlink(fd) == real for fd in (proc / "fd").iterdir()):
                holders.append(_describe(proc))
        except OSError:  # gone, or another user's process
            continue
    return holders


def wait_port_free(device: str, timeout: float) -> list[str]:
    """Wait up to `timeout` seconds for the port to be free; return whoever still holds it."""
    deadline = time.monotonic() + timeout
    while (holders := port_holders(device)) and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL)
    return holders


def _describe(proc: Path) -> str:
    command = proc.joinpath("cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    unit = ""
    try:
        for line in proc.joinpath("cgroup").read_text().splitlines():
            if line.rstrip().endswith(".service"):
                unit = f" ({line.rstrip().rsplit('/', 1)[-1]})"
    except OSError:
        pass
    return f"pid {proc.name}{unit}: {command[:120]}"
