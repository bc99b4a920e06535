"""`python -m generator install-scripts [PROJECT]`: let a user's own PlatformIO project use the
installed generator. PlatformIO's extra_scripts take file paths, so this writes two small scripts
into the project's extra_scripts/ that run the ones shipped inside the package; and it makes the
tool-scons of the PlatformIO Core whose Python runs it, so that `pio run` needs no registry.

`python -m generator tool-scons [--all] [--own-core-dir]`: only the tool-scons part (what
`make build` runs for every Core on the machine, see `toolscons`)."""
from __future__ import annotations

import argparse
from pathlib import Path

from generator.files import write_if_changed
from generator.pioenv import toolscons

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
    toolscons.serve_this_python()
    print("add to platformio.ini:\n[env]\nextra_scripts =\n    pre:extra_scripts/generate_firmware.py\n"
          "    post:extra_scripts/board_targets.py")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Mount `install-scripts` on the main command line."""
    parser = sub.add_parser("install-scripts", help="write the extra scripts a PlatformIO project lists")
    parser.add_argument("project", nargs="?", type=Path, default=Path(), help="the project folder (default: .)")
    parser.set_defaults(func=cmd_install_scripts)

    scons = sub.add_parser("tool-scons",
                           help="make the tool-scons of this Python's PlatformIO Core (--all: every Core)")
    scons.add_argument("--all", action="store_true",
                       help="every Core found: this Python's, the IDE's penv, $PLATFORMIO_PENV_DIR's, pio on PATH")
    scons.add_argument("--pio", action="append", default=[], metavar="PATH",
                       help="with --all: also this `pio`/`platformio` executable's Core")
    scons.add_argument("--own-core-dir", action="store_true",
                       help="first give this virtual environment's Core a core folder of its own "
                            "(<venv>/platformio-core)")
    scons.set_defaults(func=cmd_tool_scons)


def cmd_tool_scons(args: argparse.Namespace) -> int:
    if args.own_core_dir:
        toolscons.own_core_dir()
    if args.all:
        toolscons.serve_all(args.pio)
    elif toolscons.serve_this_python() is None:
        return 1
    return 0
