"""`python -m generator simulate`: run a built AVR firmware on the simulated board."""
from __future__ import annotations

import argparse
from pathlib import Path

from generator.paths import DEFINITIONS


def cmd_simulate(args: argparse.Namespace) -> int:
    """Run an ELF on the simulated board until Ctrl-C."""
    from generator.sim.simulate import simulate  # noqa: PLC0415 - jsonschema only when used

    simulate(args.definitions, args.board, args.elf, args.baud)
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Mount `simulate` on the main command line."""
    sim = sub.add_parser("simulate", help="run a built AVR firmware on the simulated board")
    sim.add_argument("--board", required=True, help="board definition id or PlatformIO board id")
    sim.add_argument("--elf", required=True, type=Path, help="the firmware ELF")
    sim.add_argument("--baud", type=int, required=True, help="the firmware's baud rate, shown for the monitor")
    sim.add_argument("--definitions", type=Path, default=DEFINITIONS, help="definitions folder")
    sim.set_defaults(func=cmd_simulate)
