"""`python -m generator flash ...`: the command line of the flash."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.errors import FirmwareError
from generator.flashing import flow
from generator.flashing.moonraker import DEFAULT_URL

PROJECT_DIR = Path(__file__).resolve().parents[2]  # holds bin/ (wchisp) and .pio/ (the flash log)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--firmware", required=True, type=Path, metavar="PATH",
                        help="raw firmware image (.bin), e.g. a Klipper build's out/klipper.bin")
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


def run(args: argparse.Namespace) -> int:
    return execute(flow.FlashRequest(
        firmware=args.firmware, project_dir=PROJECT_DIR, device=args.device, baud=args.baud,
        service=args.service, moonraker_url=args.moonraker, wchisp_path=args.wchisp,
        dtr_rts=args.dtr_rts, dry_run=args.dry_run, force=args.force,
    ))


def execute(request: flow.FlashRequest) -> int:
    """Flash; print a FirmwareError as a message for the user. Return the exit status."""
    try:
        flow.flash(request)
    except FirmwareError as err:
        return report_failure(err)
    return 0


def report_failure(err: FirmwareError) -> int:
    """Print the error for the user (no traceback) and return the exit status to use."""
    print(f"error: {err}", file=sys.stderr, flush=True)
    return 1
