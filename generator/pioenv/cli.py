"""`python -m generator generate`: a sketch from the command line, for a selection given as
options (--board, --transport, ...) or as an env of platformio.ini (--env), which is why it sits
here, above the code generator, beside the reader of platformio.ini."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from generator.codegen.selection import Selection
from generator.errors import FirmwareError, warn
from generator.files import write_if_changed
from generator.paths import DEFINITIONS, TEMPLATES, sketch_path
from generator.pioenv.inifile import ProjectIni
from generator.values import split_ids


def parse_settings(pairs: list[str]) -> dict[str, str]:
    """['BAUD_RATE=9600'] -> {'BAUD_RATE': '9600'}."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise FirmwareError(f"--set {pair}: expected KEY=VALUE", "e.g. --set BAUD_RATE=9600")
        out[key.strip().upper()] = value
    return out


def _selection(args: argparse.Namespace) -> tuple[Selection, str, Path, list[Path]]:
    """The selection, sketch name, default folder and definitions folders: from --env's
    platformio.ini section (as the pre: script reads it, custom_firmware_definitions included)
    or from --board/--transport/... and --definitions."""
    if args.env:
        given = [f"--{k}" for k in ("board", "transport", "commands", "devices", "definitions") if getattr(args, k)]
        if given or args.set or args.name:
            raise FirmwareError(f"--env {args.env} takes the whole selection from platformio.ini "
                                "(its own definitions: custom_firmware_definitions)",
                                f"drop {', '.join(given + ['--set'] * bool(args.set) + ['--name'] * bool(args.name))}")
        options = ProjectIni(args.project_dir / "platformio.ini").env(args.env)
        selection = Selection.from_platformio(args.env, options.text("board"), options.firmware())
        return (selection, args.env, sketch_path(args.project_dir / "src", args.env).parent,
                list(options.definitions(args.project_dir)))
    missing = [f"--{k}" for k in ("board", "transport") if not getattr(args, k)]
    if missing:
        raise FirmwareError(f"generate needs {' and '.join(missing)}", "or --env NAME of platformio.ini")
    selection = Selection(board=args.board, transport=args.transport, commands=tuple(split_ids(args.commands)),
                          devices=tuple(split_ids(args.devices)), settings=parse_settings(args.set))
    name = args.name or "firmware"
    return selection, name, Path(name), [args.definitions or DEFINITIONS]


def cmd_generate(args: argparse.Namespace) -> int:
    """Write <out>/<name>.ino; with --json, print the seed's {success, data|error} shape."""
    from generator.codegen.sketch import generate  # noqa: PLC0415 - Jinja2 only when generating

    try:
        selection, name, default_out, definitions = _selection(args)
        sketch = generate(selection, name, definitions, TEMPLATES)
        path = None
        if args.out or not args.json:
            path = Path(args.out or default_out) / sketch.filename
            write_if_changed(path, sketch.content)
        if args.catalogue:
            write_if_changed(Path(args.catalogue), json.dumps(sketch.catalogue.to_json(), indent=1) + "\n")
    except FirmwareError as exc:
        if args.json:
            print(json.dumps({"success": False, "error": str(exc)}))
            return 1
        raise
    for warning in sketch.warnings:
        warn(warning)
    if args.json:
        print(json.dumps({"success": True, "data": {
            "filename": sketch.filename, "content": sketch.content, "hash": sketch.hash,
            "capabilities": sketch.capabilities, "catalogue": sketch.catalogue.hash}}))
    else:
        print(f"{path}: hash {sketch.hash}, capabilities: {', '.join(sketch.capabilities) or 'none'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Mount generate on the main command line."""
    gen = sub.add_parser("generate", help="write a sketch for a selection")
    gen.add_argument("--env", help="an env of platformio.ini: write exactly the sketch its pre: script "
                     "writes (default folder: src/ENV/)")
    gen.add_argument("--project-dir", type=Path, default=Path(), help="folder of platformio.ini (with --env)")
    gen.add_argument("--board", help="board definition id or PlatformIO board id")
    gen.add_argument("--transport", help="transport id, e.g. serial_standard")
    gen.add_argument("--commands", default="", help="comma-separated command ids, any case")
    gen.add_argument("--devices", default="", help="comma-separated device template ids")
    gen.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a setting")
    gen.add_argument("--name", help="sketch name (default: firmware)")
    gen.add_argument("-o", "--out", help="folder to write <name>.ino into (default: ./<name>/)")
    gen.add_argument("--json", action="store_true", help="print {success, data|error} as JSON")
    gen.add_argument("--catalogue", metavar="FILE", help="also write the firmware's protocol catalogue (JSON: "
                     "what generator.protocol.catalogue.Catalogue.from_json reads)")
    gen.add_argument("--definitions", type=Path, help=f"definitions folder (default: {DEFINITIONS}; with --env: "
                     "the env's custom_firmware_definitions, then that)")
    gen.set_defaults(func=cmd_generate)
