"""python -m generator keygen: a fresh key for the wifi_tcp transport (custom_firmware_wifi_key)."""
from __future__ import annotations

import argparse

from generator.values import KEY_BYTES, new_key


def cmd_keygen(_args: argparse.Namespace) -> int:
    print(new_key())
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    keygen = sub.add_parser(
        "keygen", help=f"print a fresh key ({KEY_BYTES} random bytes, base64) for custom_firmware_wifi_key",
        description="Print a fresh random key. Keep it out of platformio.ini: export FIRMWARE_WIFI_KEY=<key> "
                    "and set custom_firmware_wifi_key = ${sysenv.FIRMWARE_WIFI_KEY}.")
    keygen.set_defaults(func=cmd_keygen)
