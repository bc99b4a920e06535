"""From a selection to a sketch: resolve against the definitions, then render."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .definitions import Definitions
from .render import Renderer
from .resolve import resolve
from .selection import Selection

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = PROJECT_ROOT / "definitions"
TEMPLATES = PROJECT_ROOT / "templates"


@dataclass
class Sketch:
    """A generated sketch and what INFO will report."""

    filename: str
    content: str
    board: str
    transport: str
    capabilities: list[str]
    hash: str
    warnings: list[str] = field(default_factory=list)


def generate(selection: Selection, name: str, definitions: Path = DEFINITIONS,
             templates: Path = TEMPLATES) -> Sketch:
    """Generate `<name>.ino` for a selection; raises FirmwareError on any problem."""
    defs = Definitions(definitions)
    plan = resolve(defs, selection)
    content = Renderer(defs, templates).render(plan, f"{name}.ino")
    return Sketch(filename=f"{name}.ino", content=content, board=plan.board["id"],
                  transport=plan.transport["id"], capabilities=plan.capabilities, hash=plan.hash,
                  warnings=plan.warnings)
