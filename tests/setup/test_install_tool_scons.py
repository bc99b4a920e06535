"""generator.pioenv.toolscons: each Core's pinned tool-scons, side by side in one core folder; the
core folder a venv's .pth gives its own Core, and what another Core asked from there sees."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from generator.pioenv import toolscons


@pytest.mark.parametrize(("requirement", "scons"), [("~4.40700.0", "4.7.0"), ("~4.40801.0", "4.8.1"),
                                                    ("~4.41101.0", "4.11.1")])
def test_each_cores_requirement_names_its_scons_release(requirement: str, scons: str) -> None:
    assert toolscons.Core(Path("python"), "6.x", requirement, Path("core")).scons_version == scons


@pytest.mark.slow  # installs two SCons releases into a core folder (lanes.py cannot see it by name)
def test_two_cores_share_one_core_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The first Core gets packages/tool-scons, the other packages/tool-scons@<its version>."""
    new = toolscons.Core(Path("python"), "6.2.0", "~4.41101.0", tmp_path)
    old = toolscons.Core(Path("python"), "6.1.19", "~4.40801.0", tmp_path)
    for core in (new, old, new, old):
        toolscons.serve(core)
    packages = tmp_path / "packages"
    assert sorted(p.name for p in packages.iterdir()) == ["tool-scons", "tool-scons@4.40801.0"]
    assert json.loads((packages / "tool-scons" / "package.json").read_text())["version"] == "4.41101.0"
    assert json.loads((packages / "tool-scons@4.40801.0" / ".piopm").read_text())["version"] == "4.40801.0"
    assert (packages / "tool-scons@4.40801.0" / "SCons" / "Script" / "__init__.py").is_file()
    assert capsys.readouterr().out.count("already in") == 2


def run_pth(environ: dict[str, str]) -> dict[str, str]:
    """Run the .pth line as Python's `site` does, in a fresh interpreter; its resulting environment."""
    code = f"{toolscons.PTH_LINE.strip()}\nimport json; print(json.dumps(dict(os.environ)))"
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_the_venvs_own_core_folder_unless_the_caller_chose_one(tmp_path: Path) -> None:
    own = run_pth({"PATH": "/usr/bin"})
    assert own["PLATFORMIO_CORE_DIR"].endswith("/platformio-core")
    assert own["PLATFORMIO_DISABLE_UPGRADE_CHECK"] == "true"
    assert toolscons.user_environ(own).get("PLATFORMIO_CORE_DIR") is None  # another Core: its own default
    chosen = run_pth({"PATH": "/usr/bin", "PLATFORMIO_CORE_DIR": str(tmp_path)})
    assert chosen["PLATFORMIO_CORE_DIR"] == str(tmp_path)
    assert toolscons.user_environ(chosen)["PLATFORMIO_CORE_DIR"] == str(tmp_path)


def test_an_ide_core_that_a_newer_one_ran_over_stops_warning(tmp_path: Path) -> None:
    """~/.platformio from before .venv had its own folder says 6.2.0 ran last: set back to the IDE's
    6.1.18, other state kept; a version no Core found here has is left alone."""
    ide_dir, own_dir = tmp_path / "ide", tmp_path / "own"
    ide_dir.mkdir()
    (ide_dir / "appstate.json").write_text(json.dumps({"last_version": "6.2.0", "last_check": {"a": 1}}))
    ide = toolscons.Core(Path("python"), "6.1.18", "~4.40801.0", ide_dir)
    own = toolscons.Core(Path("python"), "6.2.0", "~4.41101.0", own_dir)
    toolscons.repair_last_version([own, ide])
    assert json.loads((ide_dir / "appstate.json").read_text()) == {"last_version": "6.1.18", "last_check": {"a": 1}}
    (ide_dir / "appstate.json").write_text(json.dumps({"last_version": "6.3.0"}))
    toolscons.repair_last_version([own, ide])
    assert json.loads((ide_dir / "appstate.json").read_text()) == {"last_version": "6.3.0"}
