"""docs/protocol.md's command tables are the catalogue's: generated from this checkout's
definitions (`python -m generator list --markdown`), so the docs cannot drift from the reply
fields the firmware's emitters write (issue 18 case 1: they were written a third time by hand)."""
from __future__ import annotations

from generator.codegen.catalog import DOCS_BEGIN, DOCS_END, protocol_tables
from generator.paths import DEFINITIONS, ROOT


def test_the_command_tables_are_generated_and_current() -> None:
    doc = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    start, end = doc.index(DOCS_BEGIN), doc.index(DOCS_END) + len(DOCS_END)
    assert doc[start:end] == protocol_tables(DEFINITIONS), \
        "docs/protocol.md is stale: paste `python -m generator list --markdown` between its markers"
