"""scripts/install_tool_scons.py: each Core's pinned tool-scons, side by side in one core folder."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from generator.paths import ROOT


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("install_tool_scons", ROOT / "scripts" / "install_tool_scons.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


SCRIPT = load_script()


@pytest.mark.parametrize(("requirement", "scons"), [("~4.40700.0", "4.7.0"), ("~4.40801.0", "4.8.1"),
                                                    ("~4.41101.0", "4.11.1")])
def test_each_cores_requirement_names_its_scons_release(requirement: str, scons: str) -> None:
    assert SCRIPT.Core(Path("python"), "6.x", requirement, Path("core")).scons_version == scons


def test_two_cores_share_one_core_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The first Core gets packages/tool-scons, the other packages/tool-scons@<its version>."""
    new = SCRIPT.Core(Path("python"), "6.2.0", "~4.41101.0", tmp_path)
    old = SCRIPT.Core(Path("python"), "6.1.19", "~4.40801.0", tmp_path)
    for core in (new, old, new, old):
        SCRIPT.serve(core)
    packages = tmp_path / "packages"
    assert sorted(p.name for p in packages.iterdir()) == ["tool-scons", "tool-scons@4.40801.0"]
    assert json.loads((packages / "tool-scons" / "package.json").read_text())["version"] == "4.41101.0"
    assert json.loads((packages / "tool-scons@4.40801.0" / ".piopm").read_text())["version"] == "4.40801.0"
    assert (packages / "tool-scons@4.40801.0" / "SCons" / "Script" / "__init__.py").is_file()
    assert capsys.readouterr().out.count("already in") == 2
