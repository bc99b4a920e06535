"""Which processes hold a serial port open (from /proc/*/fd), as Katapult checks before flashing."""
from __future__ import annotations

import os
import time
from collections.abc import Collection
from pathlib import Path

POLL_INTERVAL = 0.2


def port_holders(device: str, ignore_unit: str | None = None, ignore_pids: Collection[int] = ()) -> list[str]:
    """Other processes with the port open, as `pid N (unit): command line` (from /proc/*/fd),
    leaving out those of the systemd unit `ignore_unit` and the pids `ignore_pids`."""
    real = os.path.realpath(device)
    holders = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) in (os.getpid(), *ignore_pids):
            continue
        try:
            if any(os.readlink(fd) == real for fd in (proc / "fd").iterdir()):
                unit = _unit_of(proc)
                if ignore_unit is None or unit != ignore_unit:
                    holders.append(_describe(proc, unit))
        except OSError:  # gone, or another user's process
            continue
    return holders


def wait_port_free(device: str, timeout: float) -> list[str]:
    """Wait up to `timeout` seconds for the port to be free; return whoever still holds it."""
    deadline = time.monotonic() + timeout
    while (holders := port_holders(device)) and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL)
    return holders


def _unit_of(proc: Path) -> str | None:
    """The systemd service a process runs in, from its cgroup."""
    try:
        for line in proc.joinpath("cgroup").read_text().splitlines():
            if line.rstrip().endswith(".service"):
                return line.rstrip().rsplit("/", 1)[-1]
    except OSError:
        pass
    return None


def _describe(proc: Path, unit: str | None) -> str:
    command = proc.joinpath("cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    return f"pid {proc.name}{f' ({unit})' if unit else ''}: {command[:120]}"
