"""Command line: python -m generator [--verbose] {generate,list,check,simulate,flash,install-scripts,menuconfig,keygen}.

Each concern mounts its own subcommands; errors of all of them are printed here, by
`errors.report`.
"""
from __future__ import annotations

import argparse

from generator.codegen import cli as codegen_cli
from generator.errors import report
from generator.flash import cli as flash_cli
from generator.host import cli as host_cli
from generator.menu import cli as menu_cli
from generator.pioenv import install as install_cli
from generator.sim import cli as sim_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m generator",
                                     description="Generate Arduino firmware from definitions, run it, flash it.")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show the traceback of an unexpected error (also: FIRMWARE_VERBOSE=1)")
    sub = parser.add_subparsers(dest="command", required=True)
    for concern in (codegen_cli, sim_cli, flash_cli, install_cli, menu_cli, host_cli):
        concern.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the one place errors are printed
        return report(exc, args.verbose)
