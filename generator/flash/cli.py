"""`python -m generator flash ...`: the command line of the flash."""
from __future__ import annotations

import argparse
from pathlib import Path

from generator.errors import FirmwareError, report
from generator.flash import flow
from generator.flash.moonraker import DEFAULT_URL
from generator.paths import ROOT


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Mount `flash` on the main command line."""
    parser = sub.add_parser("flash", help="flash a CH32V203 (BMCU-C) with wchisp around Klipper")
    add_arguments(parser)
    parser.set_defaults(func=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--firmware", required=True, type=Path, metavar="PATH",
                        help="raw firmware image (.bin), e.g. a Klipper build's out/klipper.bin")
    parser.add_argument("--board", default="bmcu_c",
                        help="board definition id (flash size, USB bridges); default: bmcu_c")
    parser.add_argument("--device", metavar="PORT",
                        help="serial port of the board; default: the only USB-serial port that fits")
    parser.add_argument("--baud", metavar="RATE", help="115200 (default), 1m or 2m")
    parser.add_argument("--service", metavar="UNIT",
                        help="Klipper unit to stop during the flash; default: Moonraker's, or the only one running")
    parser.add_argument("--moonraker", default=DEFAULT_URL, metavar="URL",
                        help=f"Moonraker that stops and starts Klipper (default {DEFAULT_URL})")
    parser.add_argument("--wchisp", metavar="PATH", help="wchisp to use when it is neither in bin/ nor on PATH")
    parser.add_argument("--dtr-rts", action="store_true",
                        help="enter the bootloader by pulsing DTR/RTS (boards wired for auto-download)")
    parser.add_argument("--dry-run", action="store_true", help="print every step and change nothing")
    parser.add_argument("--force", action="store_true", help="flash even while a print is running or paused")
    parser.add_argument("--project-dir", type=Path, default=ROOT, metavar="DIR",
                        help="folder whose bin/ holds wchisp and whose .pio/flash/ gets the log "
                             "(default: this checkout)")


def run(args: argparse.Namespace) -> int:
    """The `flash` subcommand."""
    return execute(flow.FlashRequest(
        firmware=args.firmware, project_dir=args.project_dir, board=args.board, device=args.device, baud=args.baud,
        service=args.service, moonraker_url=args.moonraker, wchisp_path=args.wchisp,
        dtr_rts=args.dtr_rts, dry_run=args.dry_run, force=args.force,
    ))


def execute(request: flow.FlashRequest) -> int:
    """Flash; a FirmwareError is printed for the user. Return the exit status."""
    try:
        flow.flash(request)
    except FirmwareError as err:
        return report(err)
    return 0
