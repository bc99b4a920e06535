"""From a selection to a sketch: resolve against the definitions, then render."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from generator import __version__
from generator.codegen.definitions import Definitions
from generator.codegen.render import Renderer
from generator.codegen.resolve import resolve
from generator.codegen.selection import Selection
from generator.identity import FirmwareIdentity
from generator.paths import DEFINITIONS, TEMPLATES
from generator.protocol.catalogue import Catalogue


@dataclass(frozen=True)
class Sketch:
    """A generated sketch, what INFO will report about it, and the warnings of its selection."""

    filename: str
    content: str
    identity: FirmwareIdentity
    capabilities: list[str]            # the selected commands' names, uppercase, as INFO sends them
    catalogue: Catalogue               # its protocol dictionary: INFO reports its hash, CATALOGUE all of it
    baud_rate: int | None = None       # the serial speed it talks at, when its transport has one
    warnings: list[str] = field(default_factory=list)

    @property
    def board(self) -> str:
        return self.identity.board

    @property
    def transport(self) -> str:
        return self.identity.transport

    @property
    def hash(self) -> str:
        return self.identity.hash


def generate(selection: Selection, name: str, definitions: Path | list[Path] = DEFINITIONS,
             templates: Path = TEMPLATES) -> Sketch:
    """Generate `<name>.ino` for a selection; raises FirmwareError on any problem."""
    defs = Definitions(definitions)
    plan = resolve(defs, selection)
    content = Renderer(defs, templates).render(plan, f"{name}.ino")
    identity = FirmwareIdentity.of(plan.board["id"], plan.transport["id"], __version__, plan.hash,
                                   plan.capabilities, plan.catalogue.hash)
    baud = plan.settings.get("BAUD_RATE")
    return Sketch(filename=f"{name}.ino", content=content, identity=identity, capabilities=plan.capabilities,
                  catalogue=plan.catalogue,
                  baud_rate=baud if isinstance(baud, int) else None, warnings=plan.warnings)
