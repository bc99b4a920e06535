"""The binary frame format's limits and rules that the generated firmware's tables and the host
(generator/host/frames.py) must agree on (docs/protocol.md, "Binary frames")."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FRAME_OPS = 32     # a request header's op has 5 bits: the first 32 capabilities
FRAME_ARGS = 3     # and its argument count 2
ECHO_FIELDS = 8    # FwCommand.echo is one byte: only the first 8 reply fields can be left out


def echoed_fields(command: Mapping[str, Any]) -> list[int]:
    """Positions of the reply fields named like one of the command's arguments: they echo it,
    so a reply frame leaves them out and the host fills them in from its request."""
    names = {arg["name"] for arg in command.get("args", [])}
    return [i for i, field in enumerate(command.get("reply") or []) if field in names and i < ECHO_FIELDS]
