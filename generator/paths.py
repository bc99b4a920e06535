"""Where things are: the one module that knows the layout of a checkout and of a PlatformIO project.

In a checkout the package sits next to its data (`definitions/`, `templates/`, `sim/`,
`extra_scripts/`); installed with pip (pyproject.toml), the same folders are inside the package
(`generator/definitions/`, ..., the simulator's sources as `generator/board_sim/`). A PlatformIO
project holds the generated sketches (`src/<env>/`), its build folders (`.pio/`) and `bin/` (wchisp).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent  # the checkout (or site-packages, when installed)


def _data(installed: str, checkout: str) -> Path:
    """A data folder: inside the installed package, else beside the package in a checkout."""
    inside = PACKAGE / installed
    return inside if inside.is_dir() else ROOT / checkout


DEFINITIONS = _data("definitions", "definitions")
TEMPLATES = _data("templates", "templates")
EXTRA_SCRIPTS = _data("extra_scripts", "extra_scripts")
SIM_DIR = _data("board_sim", "sim")
REQUIREMENTS = ROOT / "requirements-generator.txt"  # a checkout's; installed, pip brought them
CODEGEN = PACKAGE / "codegen"


def user_cache() -> Path:
    """The generator's folder in the user's cache ($XDG_CACHE_HOME, else ~/.cache): downloads and
    builds shared by every project and Python of this user."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "firmware-generator"


def _simulator(sim_dir: Path) -> Path:
    """Where the simulated board's program is built: `sim/build/` in a checkout; installed, the
    user cache under a key of its sources' content (site-packages is never written)."""
    if not sim_dir.is_relative_to(PACKAGE):
        return sim_dir / "build" / "avr_board"
    sources = b"".join((sim_dir / name).read_bytes() for name in ("avr_board.c", "Makefile"))
    return user_cache() / "sim" / hashlib.sha256(sources).hexdigest()[:12] / "avr_board"


SIM_BINARY = _simulator(SIM_DIR)


def default_project_dir() -> Path:
    """The project a command-line flash belongs to (its bin/ holds wchisp, its .pio/flash/ the
    log): this checkout, or the current folder when the package is installed."""
    return ROOT if (ROOT / "platformio.ini").is_file() else Path.cwd()


def sketch_path(src_dir: Path, env_name: str) -> Path:
    """Each env builds from its own folder, so envs never see each other's sketch."""
    return src_dir / env_name / f"{env_name}.ino"


def extra_configs(ini: Path, patterns: str) -> list[Path]:
    """The files a platformio.ini's `extra_configs` names, in reading order: each pattern (commas
    or new lines) a glob relative to the project, as PlatformIO runs there; no match, no file."""
    found: list[Path] = []
    for pattern in (p.strip() for p in patterns.replace(",", "\n").splitlines() if p.strip()):
        found += sorted(ini.parent.glob(pattern))
    return found


def is_checkout(project_dir: Path) -> bool:
    """Whether a PlatformIO project is this generator's own checkout (or a copy of it), whose
    src/ holds only generated sketches; any other project keeps its src/ for its own sources."""
    return (project_dir / "generator" / "glue.py").is_file()


def user_sketch_root(project_dir: Path) -> Path:
    """Where a user's project gets its generated sketches: beside its src/, never inside."""
    return project_dir / "generated"


def stamp_path(build_dir: Path) -> Path:
    """The record of the last generation of an env, in its build folder."""
    return build_dir / "firmware-generator.json"


def wchisp_in_project(project_dir: Path) -> Path:
    """Where a user drops wchisp: the project's bin/."""
    return project_dir / "bin" / "wchisp"


def flash_log(project_dir: Path) -> Path:
    """wchisp's output of the last flash."""
    return project_dir / ".pio" / "flash" / "wchisp.log"
