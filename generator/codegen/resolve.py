"""Resolving a selection against the definitions: which board, transport, commands and settings."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from generator.codegen.definitions import Definitions
from generator.codegen.rules import pin_default_problems
from generator.codegen.selection import KEYS, Selection
from generator.codegen.settings import KEYGEN, key_variable, resolve_settings
from generator.errors import FirmwareError, unknown_id
from generator.protocol.catalogue import Catalogue

BLOCKS = ("includes", "globals", "functions", "setup", "loop")


@dataclass
class Plan:
    """Everything rendering needs, checked: no id, architecture or setting is left to chance."""

    board: dict[str, Any]
    transport: dict[str, Any]
    commands: list[dict[str, Any]]        # selected commands by id, then the system commands
    settings: dict[str, Any]
    capabilities: list[str]               # UPPERCASE ids of the selected non-system commands
    hash: str
    catalogue: Catalogue                  # the protocol dictionary of `commands`, in op order
    warnings: list[str] = field(default_factory=list)

    @property
    def architecture(self) -> str:
        return str(self.board["architecture"])


def find_board(defs: Definitions, sel: Selection) -> dict[str, Any]:
    """The board named by custom_firmware_board (a definition id or a PlatformIO board id),
    else the definition covering the env's `board`."""
    wanted = sel.board or sel.platformio_board
    if not wanted:
        raise FirmwareError("no board selected", sel.how_to_set("board"))
    board = defs.board(wanted, sel.option("board") if sel.board else f"board in {sel.origin}")
    if sel.board and sel.platformio_board:
        _check_fits(board, sel, defs.covering(sel.platformio_board))
    return board


def _check_fits(board: dict[str, Any], sel: Selection, covering: str | None) -> None:
    """custom_firmware_board must describe the env's real hardware: the definition lists the
    env's PlatformIO board (in platformio_boards or compatible_platformio_boards), or has the
    MCU PlatformIO builds for. Anything else would build a sketch for other pins, or another
    architecture, than the chip the firmware runs on."""
    pio = sel.platformio_board
    listed = {b.lower() for b in board["platformio_boards"] + board.get("compatible_platformio_boards", [])}
    mcu = sel.platformio_mcu.strip().lower()
    if pio.lower() in listed or (mcu and mcu == board["mcu"].lower()):
        return
    env_side = ", ".join(part for part in (f"MCU {mcu}" if mcu else "MCU unknown",
                                           f"platform {sel.platformio_platform}" if sel.platformio_platform else "")
                         if part)
    fix = (f"drop it to use '{covering}', the definition covering '{pio}'" if covering
           else f"set board = {board['platformio_boards'][0]} in {sel.origin}")
    raise FirmwareError(
        f"{sel.option('board')} selects '{board['id']}' ({board['mcu']}, architecture {board['architecture']}), "
        f"which does not fit the env's board '{pio}' ({env_side})",
        f"{fix}; a board definition fits an env whose board it lists in platformio_boards or "
        f"compatible_platformio_boards, or whose MCU it has")


def unused_settings(defs: Definitions, sel: Selection, declared: set[str]) -> list[str]:
    """Warnings for the selection's settings that this selection does not use. A name no
    definition declares is a typo: an error naming the closest valid option. One declared
    elsewhere is a warning, unless inherited from a shared section (another env uses it)."""
    import difflib  # noqa: PLC0415 - only on the slow path

    known = {name for kind in ("transport", "command") for def_id in defs.ids(kind)
             for name in _raw_settings(defs.peek(kind, def_id))}
    warnings: list[str] = []
    for name in sel.settings:
        if name in declared:
            continue
        if name not in known:
            valid = sorted(known | ({key.upper() for key in KEYS} if sel.origin != "cli" else set()))
            close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
            hint = f"did you mean {sel.option_name(close[0])}? " if close else ""
            raise FirmwareError(f"{sel.option(name)}: no firmware option has this name",
                                f"{hint}valid: {', '.join(sel.option_name(v) for v in valid)}")
        if name not in sel.inherited:
            warnings.append(f"{sel.option(name)} is not used by this selection (settings: "
                            f"{', '.join(sorted(declared)) or 'none'})")
    return warnings


def _raw_settings(raw: Any) -> list[str]:
    """The setting names a (not yet validated) transport or command file declares."""
    settings = raw.get("settings") if isinstance(raw, dict) else None
    return list(settings) if isinstance(settings, dict) else []


def open_to_anyone(transport: dict[str, Any], settings: dict[str, Any], sel: Selection) -> list[str]:
    """A warning for each key setting of the transport left empty: whoever reaches the board can
    drive it."""
    out = []
    for name, decl in transport.get("settings", {}).items():
        if decl["type"] == "key" and not settings[name]:
            variable = key_variable(name, sel.env_vars.get(name, ()))
            use = (f"pass --set {name}=\"${variable}\"" if sel.origin == "cli"
                   else f"set {sel.option_name(name)} = ${{sysenv.{variable}}} in {sel.origin}")
            out.append(f"{sel.option(name)} is not set: anyone who reaches this board over {transport['id']} can "
                       f"drive it (INFO says \"auth\":\"none\"); make a key with `{KEYGEN}`, export "
                       f"{variable}=<it> and {use}")
    return out


def device_commands(defs: Definitions, device: dict[str, Any]) -> list[str]:
    """The command ids a device template needs, lowercased; each must name a command definition."""
    wanted = [device["requiredCommand"]] if "requiredCommand" in device else []
    wanted += [action["hardwareCmd"] for action in device.get("commands", {}).values()]
    valid = defs.ids("command")
    origin = defs.shown("device", device["id"])
    out: list[str] = []
    for name in wanted:
        if name.lower() not in valid:
            raise unknown_id("command", name, valid, f"named by {origin}")
        if name.lower() not in out:
            out.append(name.lower())
    return out


def _is_system(raw: Any) -> bool:
    """Whether a (not yet validated) command file declares a system command."""
    return isinstance(raw, dict) and raw.get("system") is True


def supports(definition: dict[str, Any], arch: str) -> bool:
    """True when some code block of the definition has code for `arch` (or a '*' fallback)."""
    return any(arch in block or "*" in block for block in definition["code"].values())


def selection_hash(board: str, transport: str, capabilities: list[str], settings: dict[str, Any],
                   secret: set[str]) -> str:
    """8 hex digits identifying the selection; secret settings (passwords) are left out."""
    canonical = json.dumps({
        "board": board, "transport": transport, "commands": capabilities,
        "settings": {k: v for k, v in settings.items() if k not in secret},
    }, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:8]


def selected_commands(defs: Definitions, sel: Selection) -> list[dict[str, Any]]:
    """The selection's commands and those its devices need, by id, then the system commands."""
    wanted = list(sel.commands)
    for device_id in sel.devices:
        wanted += device_commands(defs, defs.get("device", device_id, sel.option("devices")))
    selected = [defs.get("command", c, sel.option("commands")) for c in sorted({c.lower() for c in wanted})]
    system = [defs.get("command", i) for i in defs.ids("command") if _is_system(defs.peek("command", i))]
    return [c for c in selected if not c.get("system")] + system


def declared_settings(defs: Definitions, parts: list[tuple[str, dict[str, Any]]]
                      ) -> dict[str, tuple[dict[str, Any], str]]:
    """NAME -> (declaration, the file declaring it) for the settings of a transport and commands
    (`parts`: (kind, definition) pairs); one name declared two ways is an error."""
    declared: dict[str, tuple[dict[str, Any], str]] = {}
    for kind, definition in parts:
        origin = defs.shown(kind, definition["id"])
        for name, decl in definition.get("settings", {}).items():
            if name in declared and declared[name][0] != decl:
                raise FirmwareError(f"setting {name} is declared differently in {declared[name][1]} "
                                    f"and {origin}", "make the two declarations identical")
            declared.setdefault(name, (decl, origin))
    return declared


def resolve(defs: Definitions, sel: Selection) -> Plan:
    """Check the selection and gather the definitions it needs, in a deterministic order."""
    board = find_board(defs, sel)
    arch = board["architecture"]
    transport = defs.get("transport", sel.transport, sel.option("transport"))
    if arch not in transport["architectures"]:
        raise FirmwareError(
            f"transport '{transport['id']}' has no code for board '{board['id']}' (architecture {arch})",
            f"it supports: {', '.join(transport['architectures'])}; choose another "
            f"{sel.option('transport')}")

    commands = selected_commands(defs, sel)
    parts = [("transport", transport)] + [("command", c) for c in commands]
    for command in commands:
        wrong = pin_default_problems(board, command)
        if wrong:
            raise FirmwareError("\n".join(f"{defs.shown('command', command['id'])}: {problem}"
                                          for problem in wrong))
    for kind, definition in parts:
        if not supports(definition, arch):
            raise FirmwareError(
                f"{defs.shown(kind, definition['id'])}: {kind} '{definition['id']}' "
                f"has no code for board '{board['id']}' (architecture {arch})",
                f"add a code block keyed \"{arch}\" or \"*\", or drop it from "
                f"{sel.option('commands' if kind == 'command' else 'transport')}")

    declared = declared_settings(defs, parts)
    settings = resolve_settings(declared, sel)
    warnings = unused_settings(defs, sel, set(declared)) + open_to_anyone(transport, settings, sel)

    capabilities = [c["id"].upper() for c in commands if not c.get("system")]
    secret = {name for name, (decl, _) in declared.items() if decl.get("secret")}
    return Plan(board=board, transport=transport, commands=commands, settings=settings,
                capabilities=capabilities,
                hash=selection_hash(board["id"], transport["id"], capabilities, settings, secret),
                catalogue=Catalogue.from_definitions(commands), warnings=warnings)
