"""`python -m generator menuconfig --env ENV`: choose the env's firmware in a terminal menu."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.errors import FirmwareError


def cmd_menuconfig(args: argparse.Namespace) -> int:
    """Run the menu on this terminal; print what was saved."""
    from generator.menu.model import MenuModel  # noqa: PLC0415 - jsonschema and Jinja2 only when used
    from generator.menu.tui import run  # noqa: PLC0415 - curses only when used

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise FirmwareError("menuconfig needs a terminal (stdin and stdout)",
                            "run it in a terminal, or edit platformio_override.ini yourself")
    model = MenuModel(args.project_dir.resolve(), args.env)
    if run(model):
        sketch = model.check()
        print(f"menuconfig: saved [env:{args.env}] to {model.override} (hash {sketch.hash}; capabilities: "
              f"{', '.join(sketch.capabilities) or 'none'}); build it with `pio run -e {args.env}`")
    else:
        print("menuconfig: nothing saved")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Mount `menuconfig` on the main command line."""
    menu = sub.add_parser("menuconfig", help="choose an env's firmware in a terminal menu "
                          "(saved to platformio_override.ini)")
    menu.add_argument("--env", required=True, help="an env of platformio.ini")
    menu.add_argument("--project-dir", type=Path, default=Path(), help="folder of platformio.ini")
    menu.set_defaults(func=cmd_menuconfig)
