"""What the definitions folder offers (`list`) and what is wrong in it (`check`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from generator.codegen.definitions import FOLDERS, Definitions
from generator.codegen.render import Renderer
from generator.codegen.resolve import device_commands, resolve, supports
from generator.codegen.selection import Selection
from generator.errors import FirmwareError
from generator.protocol.catalogue import Arg, Catalogue, Command

DOCS_BEGIN = "<!-- commands: generated from definitions/commands by `python -m generator list --markdown` -->"
DOCS_END = "<!-- end of generated commands -->"


def architectures(defs: Definitions) -> list[str]:
    return sorted({defs.get("board", b)["architecture"] for b in defs.ids("board")})


def usage(command: dict[str, Any]) -> str:
    """How a request of the command is written: 'GPIO_READ <pin> [pull]' ([optional])."""
    args = [f"<{a['name']}>" if "default" not in a else f"[{a['name']}]" for a in command.get("args", [])]
    return " ".join([command["id"].upper(), *args])


def catalog(root: Path) -> dict[str, list[dict[str, Any]]]:
    """One row per definition: its id, a one-line summary and the facts behind it."""
    defs = Definitions(root)
    archs = architectures(defs)
    out: dict[str, list[dict[str, Any]]] = {kind + "s": [] for kind in FOLDERS}
    for board_id in defs.ids("board"):
        b = defs.get("board", board_id)
        out["boards"].append({"id": board_id, "architecture": b["architecture"],
                              "platformio_boards": b["platformio_boards"],
                              "summary": f"{b['name']} [{b['architecture']}] "
                                         f"(PlatformIO: {', '.join(b['platformio_boards'])})"})
    for transport_id in defs.ids("transport"):
        t = defs.get("transport", transport_id)
        settings = sorted(t.get("settings", {}))
        out["transports"].append({"id": transport_id, "architectures": t["architectures"],
                                  "settings": settings,
                                  "summary": f"[{', '.join(t['architectures'])}] settings: "
                                             f"{', '.join(settings) or 'none'}"})
    for command_id in defs.ids("command"):
        c = defs.get("command", command_id)
        on = [a for a in archs if supports(c, a)]
        system = ["(system)"] if c.get("system") else []
        out["commands"].append({"id": command_id, "architectures": on, "system": bool(c.get("system")),
                                "args": [a["name"] for a in c.get("args", [])],
                                "summary": " ".join([usage(c), *system, f"[{', '.join(on)}]"])})
    for device_id in defs.ids("device"):
        d = defs.get("device", device_id)
        needs = device_commands(defs, d)
        out["devices"].append({"id": device_id, "commands": needs,
                               "summary": f"{d['name']} -> {', '.join(needs)}"})
    return out


def problems(root: Path, templates: Path) -> list[str]:
    """Every problem found: each file against its schema, each device's commands, and a
    generation of every board x transport with every command the board's architecture has."""
    try:
        defs = Definitions(root)
    except FirmwareError as exc:
        return [str(exc)]
    found: list[str] = []
    for kind in FOLDERS:
        for def_id in defs.ids(kind):
            try:
                definition = defs.get(kind, def_id)
                if kind == "device":
                    device_commands(defs, definition)
            except FirmwareError as exc:
                found.append(str(exc))
    if found:
        return found
    renderer = Renderer(defs, templates)
    commands = [c for c in defs.ids("command") if not defs.get("command", c).get("system")]
    for board_id in defs.ids("board"):
        arch = defs.get("board", board_id)["architecture"]
        for transport_id in defs.ids("transport"):
            transport = defs.get("transport", transport_id)
            if arch not in transport["architectures"]:
                continue
            settings = {name: "x" if decl["type"] == "string" else str(decl.get("minimum", 1))
                        for name, decl in transport.get("settings", {}).items() if "default" not in decl}
            selection = Selection(board=board_id, transport=transport_id, settings=settings, commands=tuple(
                c for c in commands if supports(defs.get("command", c), arch)))
            try:
                renderer.render(resolve(defs, selection), "check.ino")
            except FirmwareError as exc:
                found.append(f"{board_id} + {transport_id}: {exc}")
    return found


def _arg_syntax(arg: Arg) -> str:
    """`<pin>`, `<value: 0-1>`, `[pull: none/up]` (brackets: optional, with its default)."""
    kind = {"enum": ": " + "/".join(arg.values),
            "integer": f": {arg.minimum}-{arg.maximum}"}.get(arg.type, "")
    return f"[{arg.name}{kind}]" if arg.default is not None else f"<{arg.name}{kind}>"


def _row(command: Command, description: str) -> str:
    request = " ".join([command.name, *(_arg_syntax(a) for a in command.args)])
    if command.reply is None:
        fields = "its own JSON (below)"
    else:
        fields = ", ".join(f"`{f.name}`" + ("" if f.type == "int" else f" ({f.type})") for f in command.reply) \
            or "none"
    text = " ".join(description.split())
    for char in "\\<>*|_":
        text = text.replace(char, "\\" + char)
    return f"| `{request}` | {fields} | {text} |"


def protocol_tables(root: Path) -> str:
    """docs/protocol.md's command tables, from the catalogue of every command of the checkout:
    the system commands, then the others (request syntax, reply fields and types, description)."""
    defs = Definitions(root)
    definitions = [defs.get("command", c) for c in defs.ids("command")]
    catalogue = Catalogue.from_definitions(definitions)
    descriptions = {d["id"].upper(): d["description"] for d in definitions}
    head = ["| request | reply fields (type, when not a number) | what it does |", "| --- | --- | --- |"]
    out = [DOCS_BEGIN, "System commands (always present):", "", *head]
    out += [_row(c, descriptions[c.name]) for c in catalogue.commands if c.system]
    out += ["", "Shipped commands (selected per env):", "", *head]
    out += [_row(c, descriptions[c.name]) for c in catalogue.commands if not c.system]
    return "\n".join([*out, DOCS_END])
