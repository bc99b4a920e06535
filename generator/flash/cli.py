"""`python -m generator flash ...`: the command line of the flash."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from generator.errors import FirmwareError, report
from generator.flash import API_KEY_ENV, DEFAULT_URL
from generator.paths import default_project_dir

if TYPE_CHECKING:
    from generator.flash.flow import FlashRequest


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Mount `flash` on the main command line."""
    parser = sub.add_parser("flash", help="flash a CH32V203 (BMCU-C) with wchisp around Klipper")
    add_arguments(parser)
    parser.set_defaults(func=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--firmware", type=Path, metavar="PATH",
                        help="raw firmware image (.bin), e.g. a Klipper build's out/klipper.bin")
    parser.add_argument("--restore", action="store_true",
                        help="put back the Klipper units a killed flash left stopped (of --device, or all) "
                             "and name a wchisp of it that still runs")
    parser.add_argument("--board", default="bmcu_c",
                        help="board definition id (flash size, USB bridges); default: bmcu_c")
    parser.add_argument("--device", metavar="PORT",
                        help="serial port of the board; default: the only USB-serial port that fits")
    parser.add_argument("--baud", metavar="RATE", help="115200 (default), 1m or 2m")
    parser.add_argument("--service", metavar="UNIT",
                        help="Klipper unit to stop during the flash; default: the one whose config names the port, "
                             "Moonraker's, or the only one running")
    parser.add_argument("--moonraker", default=DEFAULT_URL, metavar="URL",
                        help=f"Moonraker that stops and starts Klipper (default {DEFAULT_URL}; its Unix "
                             "socket is used instead when it is there)")
    parser.add_argument("--moonraker-socket", type=Path, metavar="PATH",
                        help="Moonraker's Unix socket (default ~/printer_data/comms/moonraker.sock if it exists)")
    parser.add_argument("--moonraker-api-key", metavar="KEY",
                        help=f"Moonraker's API key for HTTP (default ${API_KEY_ENV}); never printed")
    parser.add_argument("--wchisp", metavar="PATH", help="wchisp to use when it is neither in bin/ nor on PATH")
    parser.add_argument("--dtr-rts", action="store_true",
                        help="enter the bootloader by pulsing DTR/RTS (boards wired for auto-download)")
    parser.add_argument("--dry-run", action="store_true", help="print every step and change nothing")
    parser.add_argument("--force", action="store_true",
                        help="flash even while a print is running or paused, or its state cannot be read")
    parser.add_argument("--project-dir", type=Path, default=None, metavar="DIR",
                        help="folder whose bin/ holds wchisp and whose .pio/flash/ gets the log "
                             "(default: this checkout, or the current folder when installed)")


def run(args: argparse.Namespace) -> int:
    """The `flash` subcommand."""
    if not args.firmware and not args.restore:
        return report(FirmwareError("flash needs --firmware PATH (or --restore)",
                                    "e.g. --firmware path/to/klipper.bin"))
    from generator.flash.flow import FlashRequest  # noqa: PLC0415 - only a flash loads the flash

    request = FlashRequest(
        firmware=args.firmware or Path(), project_dir=args.project_dir or default_project_dir(), board=args.board,
        device=args.device,
        baud=args.baud, service=args.service, moonraker_url=args.moonraker, moonraker_socket=args.moonraker_socket,
        moonraker_api_key=args.moonraker_api_key, wchisp_path=args.wchisp,
        dtr_rts=args.dtr_rts, dry_run=args.dry_run, force=args.force,
    )
    return execute(request, restore=args.restore)


def execute(request: FlashRequest, restore: bool = False) -> int:
    """Flash (or restore); a FirmwareError is printed for the user. Return the exit status."""
    from generator.flash import flow  # noqa: PLC0415 - only a flash loads the flash

    try:
        flow.restore(request) if restore else flow.flash(request)
    except FirmwareError as err:
        return report(err)
    return 0
