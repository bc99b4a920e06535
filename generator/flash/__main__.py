"""`python -m generator.flash ...`: the flash on its own, for Klipper hosts.

It imports only the flash side of the package (generator.flash, generator.host.ports and
.holders, generator.boards, .errors, .paths) and pyserial, which Klipper's own klippy-env has;
that side runs on Python 3.9 (Raspberry Pi OS bullseye), checked by `make lint`.
"""
from __future__ import annotations

import argparse
import sys

from generator.errors import report
from generator.flash import cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.flash",
                                     description="Flash a CH32V203 (BMCU-C) with wchisp around Klipper.")
    cli.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return cli.run(args)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - printed for the user, as generator.cli does
        return report(exc)


if __name__ == "__main__":
    sys.exit(main())
