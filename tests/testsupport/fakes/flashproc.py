"""`python -m generator flash`'s code in a subprocess, for tests that signal or kill it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import serial

FLASH = """
import argparse, pathlib, sys
sys.path.insert(0, {root!r})
from generator.flash import cli
from generator.host import ports
ports.LINK_DIRS = tuple(pathlib.Path(p) for p in {links!r}) or ports.LINK_DIRS
parser = argparse.ArgumentParser()
cli.add_arguments(parser)
sys.exit(cli.run(parser.parse_args([*sys.argv[1:], "--project-dir", {project!r}])))
"""
ROOT = Path(__file__).parents[3]


def start_flash(project: Path, *args: str, env: dict[str, str] | None = None, tmpdir: Path | None = None,
                user: Other | None = None, links: tuple[Path, ...] = ()) -> subprocess.Popen[str]:
    """Start a flash with `args` in its own session; its TMPDIR (the port locks) is `tmpdir`, by
    default `project`; as `user` when given (through setpriv, with an interpreter that user can run);
    with `links` as its /dev/serial/by-id and by-path folders when given."""
    code = FLASH.format(root=str(ROOT), project=str(project), links=[str(link) for link in links])
    project.mkdir(exist_ok=True)
    (tmpdir or project).mkdir(parents=True, exist_ok=True)  # else Python's tempfile falls back to /tmp
    command = [sys.executable, "-c", code, *args]
    extra = {"TMPDIR": str(tmpdir or project)}
    if user:
        command = ["setpriv", f"--reuid={user.uid}", f"--regid={user.gid}", "--clear-groups", "--",
                   user.python, *command[1:]]
        extra.update(HOME=str(user.home), PYTHONPATH=str(Path(serial.__file__).parents[1]))
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, **extra, **(env or {})},
    )


@dataclass(frozen=True)
class Other:
    """Another user of the host, and a Python it may run (root's may live in a private /root)."""

    uid: int
    gid: int
    home: Path
    python: str


def read_until(process: subprocess.Popen[str], text: str) -> list[str]:
    """Read the flash's output until a line holding `text`: it arrives while the flash runs."""
    seen: list[str] = []
    while not seen or text not in seen[-1]:
        line = process.stdout.readline()
        assert line, f"flash ended early: {seen} {process.stderr.read()}"
        seen.append(line)
    return seen


def kill_while_writing(process: subprocess.Popen[str]) -> None:
    """SIGKILL a started flash once wchisp writes (a watchdog ends it only if it hangs: it never
    bounds a slow machine)."""
    watchdog = threading.Timer(300, process.kill)
    watchdog.start()
    try:
        read_until(process, "Writing to code flash...")
        process.send_signal(signal.SIGKILL)
        process.communicate()
    finally:
        watchdog.cancel()
