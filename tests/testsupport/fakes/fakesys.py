"""State shared by the fake executables and the fake Moonraker: systemd units, rights, the step log.

Everything lives in the directory named by $FAKE_SYSTEM_DIR: `state.json` (units and configuration,
changed under an flock) and `steps.log` (one line per thing a fake did, in order).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ENV = "FAKE_SYSTEM_DIR"
HOLDER = Path(__file__).with_name("holder.py")
KLIPPY = "/home/pi/klipper/klippy/klippy.py"  # where KIAUH puts Klipper


def state_dir() -> Path:
    if ENV not in os.environ:
        sys.exit(f"fake: ${ENV} is not set; refusing to run outside a test")
    return Path(os.environ[ENV])


def caller() -> str:
    """" (moonraker)" in the step log for what the fake Moonraker ran, so tests tell it apart."""
    return f" ({os.environ['FAKE_CALLER']})" if os.environ.get("FAKE_CALLER") else ""


def log(line: str) -> None:
    """Append one line in one write, so that lines from several processes never mix."""
    fd = os.open(state_dir() / "steps.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


@contextlib.contextmanager
def state() -> Iterator[dict]:
    """The state, read and written back under an exclusive lock; the write is atomic, so a fake
    killed by a test's signal never leaves half a file."""
    with open(state_dir() / "state.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = read_state()
        yield data
        temporary = state_dir() / f"state.json.{os.getpid()}"
        temporary.write_text(json.dumps(data, indent=1))
        os.replace(temporary, state_dir() / "state.json")


def read_state() -> dict:
    return json.loads((state_dir() / "state.json").read_text())


def start_unit(unit: dict) -> None:
    """Run the unit: a process that holds its serial port open, as Klipper does."""
    if unit["state"] == "active":
        return
    if unit.get("start_fails"):
        unit["state"] = "failed"
        return
    if unit.get("port") or unit.get("klippy"):
        klippy = ["--", KLIPPY, *unit["klippy"]] if unit.get("klippy") else []
        holder = subprocess.Popen(
            [sys.executable, str(HOLDER), unit.get("port") or "-", "--flock", *klippy],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        unit["pid"] = holder.pid
        while unit.get("port") and not holds(holder.pid, unit["port"]) and alive(holder.pid):
            time.sleep(0.01)
    unit["state"] = "active"


def stop_unit(unit: dict) -> None:
    """Stop at once (the caller holds the state lock)."""
    if unit.get("pid"):
        end_process(unit["pid"])
        unit["pid"] = None
    unit["state"] = "inactive"


def stop_later(name: str, delay: float) -> None:
    """A slow stop: the unit is "deactivating" until a detached job, standing for systemd's stop
    job, ends it after `delay` seconds, whatever happens to the systemctl that queued it."""
    subprocess.Popen(
        [sys.executable, "-S", __file__, "finish-stop", name, str(delay)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


def _finish_stop(name: str, delay: float) -> None:
    time.sleep(delay)
    with state() as data:
        stop_unit(data["units"][name])
    log(f"systemd: {name} stopped")


def end_process(pid: int) -> None:
    """SIGTERM `pid` and wait until it is gone (or a zombie, which holds nothing), as systemd does:
    SIGKILL if it has not ended after 5 s (TimeoutStopSec, shortened), so it always ends."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while alive(pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.01)


def alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def holds(pid: int, port: str) -> bool:
    real = os.path.realpath(port)
    try:
        return any(os.readlink(fd) == real for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def other_holders(port: str) -> list[int]:
    """Processes other than this one with `port` open."""
    return [
        int(proc.name) for proc in Path("/proc").iterdir()
        if proc.name.isdigit() and int(proc.name) != os.getpid() and holds(int(proc.name), port)
    ]


if __name__ == "__main__" and sys.argv[1:2] == ["finish-stop"]:
    _finish_stop(sys.argv[2], float(sys.argv[3]))
