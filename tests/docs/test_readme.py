"""README.md's commands work as written: every fenced ```sh block runs, line by line, in a fresh
copy of the project (its own PlatformIO core folder, this checkout's .venv), so the README cannot
drift. Commands that cannot run here are fenced as ```console (they need a board, the registry,
or another PlatformIO); `make test` is skipped, being this test's own caller."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from generator.paths import ROOT
from testsupport import helpers

FENCE = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
SKIPPED = ("make test",)
EXTRA_PARTS = ("README.md", "Makefile", "requirements.txt", "test", "pyproject.toml", "LICENSE")


def readme_commands() -> list[str]:
    """The command lines of README.md's ```sh blocks, comments removed, in order."""
    lines = []
    for block in FENCE.findall((ROOT / "README.md").read_text(encoding="utf-8")):
        for line in block.splitlines():
            command = line.split("  #")[0].strip()
            if command and not command.startswith(SKIPPED):
                lines.append(command)
    return lines


def test_readme_has_runnable_commands() -> None:
    assert "make build" in readme_commands()


@pytest.fixture(scope="module")
def fresh_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = helpers.copy_project(tmp_path_factory.mktemp("readme") / "project")
    for part in EXTRA_PARTS:
        helpers.copy_tree(ROOT / part, copy / part)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    return copy


@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_runs(fresh_copy: Path, command: str) -> None:
    env = {**helpers.pio_environ(fresh_copy), "PATH": os.environ["PATH"]}
    result = subprocess.run(["bash", "-c", command], cwd=fresh_copy, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"README command failed: {command}\n{result.stdout[-3000:]}"
