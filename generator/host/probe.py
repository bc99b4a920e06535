"""Does the board on a port run this env's selection? Ask it for INFO and compare."""
from __future__ import annotations

from generator.host.client import BoardClient
from generator.identity import FirmwareIdentity


def probe(port: str, baud: int, expected: FirmwareIdentity,
          key: str | None = None) -> tuple[FirmwareIdentity, list[str]]:
    """Ask the board on `port` for INFO (over WiFi with the env's `key`, when it has one); return
    what it said and how it differs from `expected`."""
    with BoardClient(port, baud, key=key) as client:
        client.wait_ready()
        actual = client.info()
    return actual, expected.differences(actual)
