"""README.md's commands work as written: every fenced ```sh block runs, line by line, in a fresh
copy of the project (its own PlatformIO core folder, this checkout's .venv), so the README cannot
drift. Commands that cannot run here are fenced as ```console (they need a board, the registry,
or another PlatformIO); `make test` is skipped, being this test's own caller."""
from __future__ import annotations

import json
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


# ---- statements the README makes about the project's own files and output ---------------------

def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_apt_list_is_the_makefiles() -> None:
    """Set-up: the Debian packages README names are exactly those `make` installs."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    packages = re.search(r"^APT_PACKAGES := (.*)$", makefile, re.MULTILINE)
    listed = re.search(r"What they install, only when missing: Debian's `([^`]*)`", readme())
    assert packages and listed
    assert listed.group(1).split() == packages.group(1).split()


def test_the_requirements_list_is_requirements_txt() -> None:
    """Set-up: every pinned package is named, PlatformIO and SCons with their pinned versions."""
    listed = re.search(r"the\s+pinned `requirements.txt` \(([^)]*)\)", readme())
    assert listed
    text = " ".join(listed.group(1).split()).lower()
    pins = {}
    for name in ("requirements.txt", "requirements-generator.txt"):
        for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
            if "==" in line and not line.startswith("#"):
                package, version = line.split("==")
                pins[package.strip().lower()] = version.strip()
    missing = [package for package in pins if package not in text]
    assert not missing, f"README's requirements list lacks {missing}"
    assert f"platformio {pins['platformio']} with scons {pins['scons']}" in text


def test_the_example_status_line_is_what_the_default_uno_prints() -> None:
    """Choosing the firmware: the hash and capabilities shown are the default uno's."""
    line = re.search(r"firmware: src/uno/uno\.ino up to date \(hash (\w+); capabilities: ([^)]*)\)", readme())
    assert line
    result = helpers.run_generator("generate", "--env", "uno", "--json")
    data = json.loads(result.stdout)["data"]
    assert (line.group(1), line.group(2)) == (data["hash"], ", ".join(data["capabilities"]))


def test_the_frame_sizes_are_the_protocols() -> None:
    """The protocol: the bytes on the wire README quotes are those docs/protocol.md derives."""
    sizes = re.search(r"(\d+) and (\d+) bytes on the wire\s+for `GPIO_READ 7` and `GPIO_WRITE 13 1`, request and "
                      r"reply, against (\d+) and (\d+) as JSON text", readme())
    derived = re.search(r"(\d+) and (\d+) bytes on the wire, against (\d+) and (\d+) as JSON text",
                        (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8"))
    assert sizes and derived
    assert sizes.groups() == derived.groups()


def test_the_monitor_echoes() -> None:
    """The simulator section's monitor line echoes, and so does `-t monitor` from platformio.ini."""
    monitors = [line for line in readme().splitlines() if "pio device monitor -p" in line]
    assert monitors and all("--echo" in line for line in monitors)
    assert helpers.read_ini(ROOT / "platformio.ini").get("env", "monitor_echo") == "yes"
