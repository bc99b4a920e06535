"""Install PlatformIO's core package tool-scons from PyPI's SCons, so `pio run` needs no registry.

PlatformIO 6.2.0 asks for platformio/tool-scons ~4.41101.0, which is SCons 4.11.1. This copies the
SCons package of the running interpreter into $PLATFORMIO_CORE_DIR/packages/tool-scons with the
manifest files PlatformIO checks, and does nothing when that version is already there.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

VERSION = "4.41101.0"
SCONS_VERSION = "4.11.1"
LAUNCHER = '''"""tool-scons launcher written by scripts/install_tool_scons.py."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import SCons.Script  # noqa: E402 - from the wheel put on sys.path above

SCons.Script.main()
'''


def package_dir() -> Path:
    """Where PlatformIO looks for its tool-scons package."""
    core = os.environ.get("PLATFORMIO_CORE_DIR") or Path.home() / ".platformio"
    return Path(core) / "packages" / "tool-scons"


def installed(dest: Path) -> bool:
    """True when dest already holds tool-scons at the version PlatformIO wants."""
    try:
        manifest = json.loads((dest / "package.json").read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("version") == VERSION and (dest / "SCons").is_dir()


def install(dest: Path) -> None:
    """Copy SCons and write the manifests into a fresh folder, then move it into place."""
    import SCons  # noqa: PLC0415 - only needed when installing

    found = getattr(SCons, "__version__", "")
    if found != SCONS_VERSION:
        sys.exit(f"error: SCons {SCONS_VERSION} is needed for tool-scons {VERSION}, found {found!r}; "
                 f"run: {sys.executable} -m pip install scons=={SCONS_VERSION}")
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    shutil.copytree(Path(SCons.__file__).parent, tmp / "SCons",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp / "scons.py").write_text(LAUNCHER)
    (tmp / "package.json").write_text(json.dumps(
        {"name": "tool-scons", "version": VERSION, "description": f"SCons {SCONS_VERSION} from PyPI"},
        indent=2) + "\n")
    (tmp / ".piopm").write_text(json.dumps({
        "type": "tool", "name": "tool-scons", "version": VERSION,
        "spec": {"owner": "platformio", "id": None, "name": "tool-scons",
                 "requirements": None, "uri": None}}))
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)


def main() -> None:
    dest = package_dir()
    if installed(dest):
        print(f"tool-scons {VERSION}: already in {dest}")
        return
    install(dest)
    print(f"tool-scons {VERSION}: installed in {dest} (SCons {SCONS_VERSION} from PyPI)")


if __name__ == "__main__":
    main()
