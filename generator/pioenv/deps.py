"""The generator's third-party modules, checked in whatever Python runs it (PlatformIO's too)."""
from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

from generator.errors import FirmwareError

MODULES = ("jinja2", "jsonschema", "serial", "noise")


def missing_modules() -> list[str]:
    """Modules of requirements-generator.txt that this interpreter cannot import."""
    return [name for name in MODULES if importlib.util.find_spec(name) is None]


def install_command(python: str, requirements: Path) -> list[str]:
    return [python, "-m", "pip", "install", "--disable-pip-version-check", "-r", str(requirements)]


def ensure(python: str, requirements: Path) -> None:
    """Install what is missing into `python`; a FirmwareError with pip's output and the exact
    command if that fails."""
    missing = missing_modules()
    if not missing:
        return
    command = install_command(python, requirements)
    print(f"firmware: installing {', '.join(missing)} into PlatformIO's Python ({python})", flush=True)
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    importlib.invalidate_caches()
    if result.returncode != 0 or missing_modules():
        raise FirmwareError(f"{result.stdout[-2000:].rstrip()}\ncould not install the generator's dependencies",
                            "run: " + " ".join(f'"{c}"' if " " in c else c for c in command))
