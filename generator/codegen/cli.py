"""`python -m generator list|check`: the definitions from the command line."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from generator.paths import DEFINITIONS, TEMPLATES


def cmd_list(args: argparse.Namespace) -> int:
    """Print every board, transport, command and device, with what each supports."""
    from generator.codegen.catalog import catalog, protocol_tables  # noqa: PLC0415 - jsonschema only when used

    if args.markdown:
        print(protocol_tables(args.definitions))
        return 0
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
    from generator.codegen.catalog import problems  # noqa: PLC0415 - Jinja2 only when used

    found = problems(args.definitions, TEMPLATES)
    for problem in found:
        print(f"problem: {problem}")
    print(f"{len(found)} problem(s)" if found else "all definitions are valid")
    return 1 if found else 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Mount list and check on the main command line (generate, which also reads platformio.ini,
    is pioenv's)."""
    lst = sub.add_parser("list", help="show boards, transports, commands and devices")
    lst.add_argument("--json", action="store_true")
    lst.add_argument("--markdown", action="store_true", help="print docs/protocol.md's command tables")
    lst.set_defaults(func=cmd_list)

    chk = sub.add_parser("check", help="validate every definition and device template")
    chk.set_defaults(func=cmd_check)

    for parser in (lst, chk):
        parser.add_argument("--definitions", type=Path, default=DEFINITIONS, help="definitions folder")
