"""Where things are: the one module that knows the layout of a checkout and of a PlatformIO project.

The package ships next to its data (`definitions/`, `templates/`, `sim/`); a PlatformIO project
holds the generated sketches (`src/<env>/`), its build folders (`.pio/`) and `bin/` (wchisp).
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = ROOT / "definitions"
TEMPLATES = ROOT / "templates"
REQUIREMENTS = ROOT / "requirements-generator.txt"
SIM_DIR = ROOT / "sim"
SIM_BINARY = SIM_DIR / "build" / "avr_board"
CODEGEN = Path(__file__).resolve().parent / "codegen"


def sketch_path(src_dir: Path, env_name: str) -> Path:
    """Each env builds from its own folder, so envs never see each other's sketch."""
    return src_dir / env_name / f"{env_name}.ino"


def stamp_path(build_dir: Path) -> Path:
    """The record of the last generation of an env, in its build folder."""
    return build_dir / "firmware-generator.json"


def wchisp_in_project(project_dir: Path) -> Path:
    """Where a user drops wchisp: the project's bin/."""
    return project_dir / "bin" / "wchisp"


def flash_log(project_dir: Path) -> Path:
    """wchisp's output of the last flash."""
    return project_dir / ".pio" / "flash" / "wchisp.log"
