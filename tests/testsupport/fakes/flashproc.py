"""`python -m generator flash`'s code in a subprocess, for tests that signal or kill it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FLASH = """
import argparse, pathlib, sys
sys.path.insert(0, {root!r})
from generator.flash import cli
parser = argparse.ArgumentParser()
cli.add_arguments(parser)
sys.exit(cli.run(parser.parse_args([*sys.argv[1:], "--project-dir", {project!r}])))
"""
ROOT = Path(__file__).parents[3]


def start_flash(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start a flash with `args` in its own session; its TMPDIR (the port locks) is `project`."""
    code = FLASH.format(root=str(ROOT), project=str(project))
    project.mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "TMPDIR": str(project), **(env or {})},
    )


def read_until(process: subprocess.Popen[str], text: str) -> list[str]:
    """Read the flash's output until a line holding `text`: it arrives while the flash runs."""
    seen: list[str] = []
    while not seen or text not in seen[-1]:
        line = process.stdout.readline()
        assert line, f"flash ended early: {seen} {process.stderr.read()}"
        seen.append(line)
    return seen
