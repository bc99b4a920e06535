"""README's "In your own PlatformIO project", followed literally (slow: a fresh penv, ~3 minutes).

A private HOME holds VS Code's kind of Core (a bare penv, PlatformIO 6.1.18, never served by this
checkout's make); the section's console lines run as written (only the clone's path filled in),
its ini and JSON blocks become the project's files. The build and the simulation must need no
PlatformIO registry: every `pio` runs behind a dead proxy, so any registry request fails at once.
The simulated board is built outside site-packages, and the user's own command answers.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from generator.host.client import BoardClient
from generator.paths import ROOT
from testsupport import helpers

pytestmark = pytest.mark.slow
IDE_CORE = "6.1.18"
CLONE_PARTS = ("pyproject.toml", "README.md", "LICENSE", "generator", "definitions", "templates", "extra_scripts",
               "sim", "platforms")
PLACEHOLDER = "/path/to/this/clone"


def section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    return text[start:text.index("\n## ", start + 1)]


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def commands(text: str) -> list[str]:
    """The console lines of the section, comments removed."""
    return [line.split("  #")[0].strip() for block in blocks(text, "console") for line in block.splitlines()
            if line.strip()]


def test_own_project_from_the_readme_alone(tmp_path: Path) -> None:
    text = section("In your own PlatformIO project")
    home, clone, project = tmp_path / "home", tmp_path / "clone", tmp_path / "my-project"
    clone.mkdir()
    for part in CLONE_PARTS:
        helpers.copy_tree(ROOT / part, clone / part)
    helpers.bare_penv(home / ".platformio", IDE_CORE)
    (project / "src").mkdir(parents=True)
    [ini] = blocks(text, "ini")
    (project / "platformio.ini").write_text(ini.replace(PLACEHOLDER, str(clone)))
    [command_json] = blocks(text, "json")
    json_name = re.search(r"`(my_definitions/commands/\w+\.json)`", text)
    assert json_name, "the section names the file of its own command"
    (project / json_name.group(1)).parent.mkdir(parents=True)
    (project / json_name.group(1)).write_text(command_json)
    [command_cpp] = blocks(text, "cpp")
    cpp_name = re.search(r"`(my_definitions/commands/src/\w+\.cpp)`", text)
    assert cpp_name, "the section names the file of its command's C++"
    (project / cpp_name.group(1)).parent.mkdir(parents=True)
    (project / cpp_name.group(1)).write_text(command_cpp)

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PLATFORMIO_", "FIRMWARE_")) and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(HOME=str(home), PLATFORMIO_NO_ANSI="true", XDG_CACHE_HOME=str(home / ".cache"))
    lines = commands(text)
    install, (build, simulate, monitor) = lines[:2], lines[2:]
    for line in install:  # pip may reach PyPI (the package's build needs setuptools); nothing else may
        run = subprocess.run(["bash", "-c", line.replace(PLACEHOLDER, str(clone))], cwd=project, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600, check=False)
        assert run.returncode == 0, f"{line}\n{run.stdout[-3000:]}"
    assert f"for PlatformIO {IDE_CORE}: installed in {home / '.platformio' / 'packages' / 'tool-scons'}" in run.stdout

    offline = {**env, **helpers.DEAD_PROXY}
    built = subprocess.run(["bash", "-c", build], cwd=project, env=offline, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=600, check=False)
    assert built.returncode == 0, built.stdout[-3000:]
    assert "[SUCCESS]" in built.stdout and "Please wait" not in built.stdout

    assert simulate.endswith("pio run -t simulate")
    sim = subprocess.Popen(["bash", "-c", f"exec {simulate}"], cwd=project, env=offline, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        port = helpers.printed_serial_port(sim, within=600)
        assert list((home / ".cache" / "firmware-generator" / "sim").rglob("avr_board")), "built in the user cache"
        with BoardClient(port, 115200) as board:
            board.wait_ready()
            assert board.request("UPTIME")["ms"] >= 0
            assert "uptime" in board.info().capabilities
    finally:
        os.killpg(sim.pid, signal.SIGINT)  # no terminal here: Ctrl-C reaches PlatformIO too (test_first_hour has one)
        sim.communicate(timeout=60)
    site = subprocess.run([str(home / ".platformio" / "penv" / "bin" / "python"), "-c",
                           "import generator, pathlib; print(pathlib.Path(generator.__file__).parent)"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert not list(Path(site).rglob("avr_board")), "nothing is built inside site-packages"

    assert "--echo" in monitor
    monitor_help = subprocess.run(["bash", "-c", f"{monitor.split(' -p ')[0]} --help"], env=env,
                                  capture_output=True, text=True, check=True)
    assert "--echo" in monitor_help.stdout
