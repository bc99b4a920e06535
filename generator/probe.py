"""Does the board on a port run this env's selection? Compare its INFO with the expected one."""
from __future__ import annotations

from .client import BoardInfo


def differences(expected: BoardInfo, actual: BoardInfo) -> list[str]:
    """Human-readable differences; empty when the board runs exactly this selection."""
    lines = []
    for field in ("board", "transport", "hash"):
        want, got = getattr(expected, field), getattr(actual, field)
        if want != got:
            lines.append(f"{field}: board has {got}, this env builds {want}")
    missing = sorted(set(expected.capabilities) - set(actual.capabilities))
    extra = sorted(set(actual.capabilities) - set(expected.capabilities))
    if missing:
        lines.append(f"capabilities missing on the board: {', '.join(missing)}")
    if extra:
        lines.append(f"capabilities on the board but not in this env: {', '.join(extra)}")
    return lines


def probe(port: str, baud: int, expected: BoardInfo) -> tuple[BoardInfo, list[str]]:
    """Ask the board on `port` for INFO; return what it said and how it differs from `expected`."""
    from .client import BoardClient  # noqa: PLC0415 - pyserial only when probing

    with BoardClient(port, baud) as client:
        client.wait_ready()
        actual = client.info()
    return actual, differences(expected, actual)
