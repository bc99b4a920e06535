"""Command line: python -m generator [--verbose]
{generate,list,check,simulate,flash,install-scripts,tool-scons,menuconfig,keygen}.

Each concern mounts its own subcommands; errors of all of them are printed here, by
`errors.report`.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys

from generator.codegen import cli as codegen_cli
from generator.errors import report
from generator.flash import cli as flash_cli
from generator.host import cli as host_cli
from generator.menu import cli as menu_cli
from generator.pioenv import cli as pioenv_cli
from generator.pioenv import install as install_cli
from generator.sim import cli as sim_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m generator",
                                     description="Generate Arduino firmware from definitions, run it, flash it.")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show the traceback of an unexpected error (also: FIRMWARE_VERBOSE=1)")
    sub = parser.add_subparsers(dest="command", required=True)
    for concern in (pioenv_cli, codegen_cli, sim_cli, flash_cli, install_cli, menu_cli, host_cli):
        concern.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:
        return reader_left()
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the one place errors are printed
        return report(exc, args.verbose)


def reader_left() -> int:
    """The reader of our output stopped early (`... | head`): end quietly with the status a
    program killed by SIGPIPE has, as `cat` does; stdout goes to /dev/null so that Python's final
    flush cannot fail again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 128 + signal.SIGPIPE
