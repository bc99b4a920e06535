"""Which firmware a board runs: what INFO reports, what a build expects, what probe compares."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from generator.errors import FirmwareError


@dataclass(frozen=True)
class FirmwareIdentity:
    """Board and transport ids, generator version, selection hash, the capabilities (command
    ids, lowercase as hosts store them; INFO sends them uppercase), and the protocol catalogue's
    hash ("" from a firmware or stamp older than the catalogue)."""

    board: str
    transport: str
    fw: str
    hash: str
    capabilities: list[str]
    catalogue: str = ""

    @classmethod
    def of(cls, board: str, transport: str, fw: str, hash_: str, commands: list[str],
           catalogue: str = "") -> FirmwareIdentity:
        return cls(board, transport, fw, hash_, [c.lower() for c in commands], catalogue)

    @classmethod
    def from_reply(cls, reply: dict[str, Any]) -> FirmwareIdentity:
        """From INFO's JSON reply."""
        try:
            return cls.of(str(reply["board"]), str(reply["transport"]), str(reply["fw"]), str(reply["hash"]),
                          [str(c) for c in reply["capabilities"]], str(reply.get("catalogue", "")))
        except (KeyError, TypeError) as exc:
            raise FirmwareError(f"INFO reply lacks {exc}: {json.dumps(reply)}") from exc

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FirmwareIdentity:
        return cls(**data)

    def differences(self, actual: FirmwareIdentity) -> list[str]:
        """How `actual` (what a board reports) differs from this expected identity, in words;
        the generator version does not count. Empty when the board runs exactly this selection."""
        lines = []
        for field in ("board", "transport", "hash"):
            want, got = getattr(self, field), getattr(actual, field)
            if want != got:
                lines.append(f"{field}: board has {got}, this env builds {want}")
        if self.catalogue and self.catalogue != actual.catalogue:  # same selection, other definitions
            lines.append(f"catalogue: board has {actual.catalogue or 'none'}, this env builds {self.catalogue}")
        missing = sorted(set(self.capabilities) - set(actual.capabilities))
        extra = sorted(set(actual.capabilities) - set(self.capabilities))
        if missing:
            lines.append(f"capabilities missing on the board: {', '.join(missing)}")
        if extra:
            lines.append(f"capabilities on the board but not in this env: {', '.join(extra)}")
        return lines
