"""Two PlatformIO Cores on one machine never disturb each other (slow: a fresh .venv, ~3 minutes).

The machine of a VS Code user: the extension's Core (a bare penv with PlatformIO 6.1.18 in
`~/.platformio`, on PATH as in the extension's terminal) has already run a real command there, so
`~/.platformio/appstate.json` says 6.1.18. Then, in a fresh clone, `make build` makes `.venv` with
PlatformIO 6.2.0: before its own core folder, that Core took 6.1.18 for an upgrade to run
("Please wait while upgrading PlatformIO...", a registry download, `HTTPClientError` a minute
later). Now `make build`, `make lint`, pytest's own `pio` runs and `pio test`, and the IDE's Core
in between, all pass with no upgrade, no "Obsolete PIO Core" and no registry wait (behind a dead
proxy, any web request would fail at once). Everything
runs under a private HOME, so the machine's own ~/.platformio is never touched.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from generator.paths import ROOT
from testsupport import helpers

IDE_CORE = "6.1.18"
# What a clone holds beyond the PlatformIO project parts, for make and the tests.
CLONE_PARTS = ("Makefile", "requirements.txt", "pyproject.toml", "README.md", "LICENSE", "ruff.toml", "pytest.ini",
               "test", "tests", "bench", "docs")
pytestmark = pytest.mark.slow
# Lines PlatformIO starts with when it upgrades, warns of another Core, or failed to reach its registry.
NEVER = ("Please wait while upgrading", "Obsolete PIO Core", "HTTPClientError", "Failed to check for PlatformIO")


class Machine:
    """A private HOME with VS Code's Core in it, and a fresh clone of the project."""

    def __init__(self, root: Path) -> None:
        self.home = root / "home"
        self.ide_core = self.home / ".platformio"
        self.clone = helpers.copy_project(root / "clone")
        for part in CLONE_PARTS:
            helpers.copy_tree(ROOT / part, self.clone / part)

    def environ(self) -> dict[str, str]:
        """The extension's terminal: its penv first on PATH, no PLATFORMIO_* of this test run."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PLATFORMIO_", "FIRMWARE_")) and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        return {**env, "HOME": str(self.home), "PATH": f"{self.ide_core / 'penv' / 'bin'}:{env['PATH']}",
                "PLATFORMIO_NO_ANSI": "true"}

    def run(self, *command: str, offline: bool = True, timeout: float = 600) -> str:
        """Run in the clone; it must succeed and show none of NEVER. Returns its output. Offline
        (all but the first make, whose pip needs PyPI), any web request fails at once."""
        env = {**self.environ(), **(helpers.DEAD_PROXY if offline else {})}
        proc = subprocess.run(command, cwd=self.clone, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False)
        assert proc.returncode == 0, f"{' '.join(command)} failed:\n{proc.stdout[-4000:]}"
        for text in NEVER:
            assert not re.search(f"^{text}", proc.stdout, re.MULTILINE), \
                f"{' '.join(command)} printed {text!r}:\n{proc.stdout[-4000:]}"
        return proc.stdout

    def appstate(self, core: Path) -> dict[str, object]:
        return json.loads((core / "appstate.json").read_text())


@pytest.fixture(scope="module")
def machine(tmp_path_factory: pytest.TempPathFactory) -> Machine:
    machine = Machine(tmp_path_factory.mktemp("two-cores"))
    helpers.bare_penv(machine.ide_core, IDE_CORE)
    machine.run("pio", "system", "info")
    assert machine.appstate(machine.ide_core)["last_version"] == IDE_CORE
    return machine


def test_make_build_then_both_cores_in_turn(machine: Machine) -> None:
    out = machine.run("make", "build", offline=False)
    assert "[SUCCESS]" in out
    own = machine.clone / ".venv" / "platformio-core"
    assert f"tool-scons 4.41101.0 (SCons 4.11.1) for PlatformIO 6.2.0: installed in {own / 'packages'}" in out
    assert f"for PlatformIO {IDE_CORE}: installed in {machine.ide_core / 'packages'}" in out
    assert machine.appstate(own)["last_version"] == "6.2.0"
    assert machine.appstate(machine.ide_core)["last_version"] == IDE_CORE  # the IDE's state: its own

    # the IDE's Build button, in between (its first one pip-installs the generator's modules: PyPI)
    ide_build = machine.run("pio", "run", "-e", "nano", offline=False)
    assert "[SUCCESS]" in ide_build
    machine.run("make", "lint")
    tests = machine.run(".venv/bin/python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "tests/pioenv/test_pio_build.py", "-k", "second_run")
    assert "1 passed" in tests
    assert "3 test cases: 3 succeeded" in machine.run(".venv/bin/pio", "test", "-e", "uno")
    again = machine.run("make", "build")
    assert "firmware: src/uno/uno.ino up to date" in again
    assert "installed in" not in again  # every tool-scons already there
    assert "[SUCCESS]" in machine.run("pio", "run", "-e", "nano")  # and again, offline
    machine.run("pio", "system", "info")
    assert machine.appstate(machine.ide_core)["last_version"] == IDE_CORE
