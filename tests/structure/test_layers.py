"""Issue 18 case 7: the package's imports keep its layers.

The layer order lives in one place, the table under "## Layers" in docs/architecture.md; this
test reads it and every import statement of generator/ and extra_scripts/ (module level or inside
a function, read with ast, nothing imported), and holds them to it: no import runs back up or
sideways to another row, no module is left out of the table, and no modules import each other
in a circle. On the old code it failed twice: codegen/cli.py -> pioenv/inifile.py ran up (for
`generate --env`, now pioenv/cli.py), and inifile.py and options.py imported each other.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from generator.paths import ROOT

ARCHITECTURE = ROOT / "docs" / "architecture.md"
SOURCES = (ROOT / "generator", ROOT / "extra_scripts")


def layer_table() -> dict[str, int]:
    """unit -> layer number, from the "## Layers" table of docs/architecture.md."""
    text = ARCHITECTURE.read_text(encoding="utf-8").split("## Layers", 1)[1].split("\n## ", 1)[0]
    table: dict[str, int] = {}
    for number, modules in re.findall(r"^\| (\d+) \| ([^|]+) \|", text, re.MULTILINE):
        for unit in re.findall(r"`([\w.]+)`", modules):
            table[unit] = int(number)
    return table


def module_name(path: Path) -> str:
    """generator/codegen/resolve.py -> generator.codegen.resolve; extra_scripts/x.py -> extra_scripts.x."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str:
    """The table's unit of a module: generator.codegen.resolve -> codegen, generator.glue -> glue."""
    parts = module.split(".")
    return parts[0] if parts[0] != "generator" else parts[1] if len(parts) > 1 else "generator"


def modules() -> dict[str, Path]:
    return {module_name(path): path for top in SOURCES for path in sorted(top.rglob("*.py"))}


def imports(path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """(module imported, line) for every import of the project's own modules in a file; `from
    generator.x import y` counts y when y is a module, else generator.x."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names if alias.name.split(".")[0] in
                        ("generator", "extra_scripts"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] == "generator":
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                yield (sub if sub in known else node.module), node.lineno


def edges() -> list[tuple[str, str, int]]:
    known = modules()
    return [(name, target, line) for name, path in known.items() for target, line in imports(path, known)
            if target != name]


def test_every_module_has_a_row() -> None:
    """A new subpackage or top-level module gets its row in the table, or this test names it."""
    table = layer_table()
    assert {unit_of(name) for name in modules()} - {"generator"} <= set(table), table


def test_no_import_runs_back_up_a_layer() -> None:
    table = layer_table()
    wrong = [f"{modules()[source].relative_to(ROOT)}:{line} imports {target} "
             f"(layer {table[unit_of(source)]} {unit_of(source)} -> layer {table[unit_of(target)]} {unit_of(target)})"
             for source, target, line in edges()
             if unit_of(target) != "generator" and unit_of(source) != unit_of(target)
             and table[unit_of(target)] >= table[unit_of(source)]]
    assert wrong == []


def test_no_modules_import_each_other() -> None:
    """No circle of imports, of two modules or more (inside one subpackage too)."""
    graph: dict[str, set[str]] = {}
    for source, target, _ in edges():
        graph.setdefault(source, set()).add(target)
    circles = []
    for start in graph:
        stack, seen = [(start, (start,))], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    circles.append(" -> ".join((*trail, start)))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, (*trail, nxt)))
    assert circles == []


def test_the_table_is_read() -> None:
    """The table parses: a broken table would make the tests above pass vacuously."""
    table = layer_table()
    assert table["errors"] == 1 and table["codegen"] < table["boards"] < table["host"] < table["pioenv"]
    assert len(edges()) > 50
