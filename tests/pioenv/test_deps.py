"""The pre-script's dependency check in a Python that lacks them, as VS Code's PlatformIO has."""
from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

from testsupport import helpers

ENSURE = ("import sys; sys.path.insert(0, {root!r}); from generator import glue; from generator.pioenv import deps; "
          "sys.exit(glue.guarded(lambda: deps.ensure(sys.executable, {req!r})))")


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with nothing but pip: no Jinja2, no jsonschema."""
    where = tmp_path_factory.mktemp("bare") / "venv"
    venv.EnvBuilder(with_pip=True).create(where)
    return where / "bin" / "python"


def run_ensure(python: Path, requirements: Path) -> subprocess.CompletedProcess[str]:
    code = ENSURE.format(root=str(helpers.ROOT), req=str(requirements))
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=300)


def test_missing_modules_are_installed_into_that_python(bare_python: Path) -> None:
    check = [str(bare_python), "-c", "import jinja2, jsonschema, serial"]
    assert subprocess.run(check, capture_output=True).returncode != 0
    result = run_ensure(bare_python, helpers.ROOT / "requirements-generator.txt")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "installing jinja2, jsonschema, serial, noise into PlatformIO's Python" in result.stdout
    assert subprocess.run(check, capture_output=True).returncode == 0
    again = run_ensure(bare_python, helpers.ROOT / "requirements-generator.txt")
    assert again.returncode == 0 and again.stdout == ""   # nothing missing: silent, no pip run


def test_a_failed_install_prints_the_exact_command(tmp_path: Path) -> None:
    python = tmp_path / "venv" / "bin" / "python"
    venv.EnvBuilder(with_pip=True).create(tmp_path / "venv")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("jinja2==0.0.0.0.1\n")  # no such release: pip refuses at once
    result = run_ensure(python, requirements)
    assert result.returncode != 0
    assert "could not install the generator's dependencies" in result.stderr and "run: " in result.stderr
    assert f"{python} -m pip install --disable-pip-version-check -r {requirements}" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_running_python_has_everything() -> None:
    from generator.pioenv import deps

    assert deps.missing_modules() == [], sys.executable
