"""Command line: python -m generator {generate,list,check,simulate,flash}."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import FirmwareError
from .output import write_if_changed
from .selection import Selection, split_ids
from .sketch import DEFINITIONS, TEMPLATES


def parse_settings(pairs: list[str]) -> dict[str, str]:
    """['BAUD_RATE=9600'] -> {'BAUD_RATE': '9600'}."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise FirmwareError(f"--set {pair}: expected KEY=VALUE", "e.g. --set BAUD_RATE=9600")
        out[key.strip().upper()] = value
    return out


def cmd_generate(args: argparse.Namespace) -> int:
    """Write <out>/<name>.ino; with --json, print the seed's {success, data|error} shape."""
    from .sketch import generate  # noqa: PLC0415 - Jinja2 only when generating

    try:
        selection = Selection(board=args.board, transport=args.transport,
                              commands=tuple(split_ids(args.commands)),
                              devices=tuple(split_ids(args.devices)), settings=parse_settings(args.set))
        sketch = generate(selection, args.name, args.definitions, TEMPLATES)
        path = None
        if args.out or not args.json:
            path = Path(args.out or args.name) / sketch.filename
            write_if_changed(path, sketch.content)
    except FirmwareError as exc:
        if args.json:
            print(json.dumps({"success": False, "error": str(exc)}))
            return 1
        raise
    for warning in sketch.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps({"success": True, "data": {
            "filename": sketch.filename, "content": sketch.content, "hash": sketch.hash,
            "capabilities": sketch.capabilities}}))
    else:
        print(f"{path}: hash {sketch.hash}, capabilities: {', '.join(sketch.capabilities) or 'none'}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """Print every board, transport, command and device, with what each supports."""
    from .catalog import catalog  # noqa: PLC0415

    data = catalog(args.definitions)
    if args.json:
        print(json.dumps(data, indent=1))
        return 0
    for kind, rows in data.items():
        print(f"{kind}:")
        for row in rows:
            print(f"  {row['id']:<22} {row['summary']}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Validate every definition; exit 1 listing each problem."""
    from .catalog import problems  # noqa: PLC0415

    found = problems(args.definitions, TEMPLATES)
    for problem in found:
        print(f"problem: {problem}")
    print(f"{len(found)} problem(s)" if found else "all definitions are valid")
    return 1 if found else 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Run an ELF on the simulated board until Ctrl-C."""
    from .simulate import simulate  # noqa: PLC0415

    simulate(args.definitions, args.board, args.elf, args.baud)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m generator",
                                     description="Generate Arduino firmware from definitions.")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a sketch for a selection")
    gen.add_argument("--board", required=True, help="board definition id or PlatformIO board id")
    gen.add_argument("--transport", required=True, help="transport id, e.g. serial_standard")
    gen.add_argument("--commands", default="", help="comma-separated command ids, any case")
    gen.add_argument("--devices", default="", help="comma-separated device template ids")
    gen.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a setting")
    gen.add_argument("--name", default="firmware", help="sketch name (default: firmware)")
    gen.add_argument("-o", "--out", help="folder to write <name>.ino into (default: ./<name>/)")
    gen.add_argument("--json", action="store_true", help="print {success, data|error} as JSON")
    gen.set_defaults(func=cmd_generate)

    lst = sub.add_parser("list", help="show boards, transports, commands and devices")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_list)

    chk = sub.add_parser("check", help="validate every definition and device template")
    chk.set_defaults(func=cmd_check)

    sim = sub.add_parser("simulate", help="run a built AVR firmware on the simulated board")
    sim.add_argument("--board", required=True, help="board definition id or PlatformIO board id")
    sim.add_argument("--elf", required=True, type=Path, help="the firmware ELF")
    sim.add_argument("--baud", type=int, default=115200, help="baud rate to suggest for the monitor")
    sim.set_defaults(func=cmd_simulate)

    for p in (gen, lst, chk, sim):
        p.add_argument("--definitions", type=Path, default=DEFINITIONS, help="definitions folder")

    from .flashing import cli as flashing_cli  # noqa: PLC0415

    fl = sub.add_parser("flash", help="flash a CH32V203 (BMCU-C) with wchisp around Klipper")
    flashing_cli.add_arguments(fl)
    fl.set_defaults(func=flashing_cli.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except FirmwareError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
