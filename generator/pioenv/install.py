"""`python -m generator install-scripts [PROJECT]`: let a user's own PlatformIO project use the
installed generator. PlatformIO's extra_scripts take file paths, so this writes two small scripts
into the project's extra_scripts/ that run the ones shipped inside the package."""
from __future__ import annotations

import argparse
from pathlib import Path

from generator.files import write_if_changed

STUB = '''"""Written by `python -m generator install-scripts`: runs the firmware generator's {role}: script
shipped in the package installed in PlatformIO's Python (pip install firmware-generator)."""
Import("env")

try:
    from generator.paths import EXTRA_SCRIPTS
except ImportError:
    print("error: the firmware generator is not installed in PlatformIO's Python ($PYTHONEXE)\\n"
          "  hint: run: \\"" + env.subst("$PYTHONEXE") + "\\" -m pip install <the generator's folder or git URL>")
    env.Exit(1)
env.SConscript(str(EXTRA_SCRIPTS / "{name}"), exports="env")
'''
SCRIPTS = {"generate_firmware.py": "pre", "board_targets.py": "post"}


def install_scripts(project: Path) -> list[Path]:
    """Write the stubs into <project>/extra_scripts/; return their paths."""
    written = []
    for name, role in SCRIPTS.items():
        path = project / "extra_scripts" / name
        write_if_changed(path, STUB.format(role=role, name=name))
        written.append(path)
    return written


def cmd_install_scripts(args: argparse.Namespace) -> int:
    for path in install_scripts(args.project):
        print(f"wrote {path}")
    print("add to platformio.ini:\n[env]\nextra_scripts =\n    pre:extra_scripts/generate_firmware.py\n"
          "    post:extra_scripts/board_targets.py")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Mount `install-scripts` on the main command line."""
    parser = sub.add_parser("install-scripts", help="write the extra scripts a PlatformIO project lists")
    parser.add_argument("project", nargs="?", type=Path, default=Path(), help="the project folder (default: .)")
    parser.set_defaults(func=cmd_install_scripts)
