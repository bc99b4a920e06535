"""Rendering a resolved plan into the sketch text with Jinja2."""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import jinja2

from generator import __version__
from generator.codegen import cscan, emitters
from generator.codegen.definitions import TEMPLATE_SYNTAX, Definitions
from generator.codegen.resolve import BLOCKS, Plan
from generator.codegen.settings import c_string
from generator.errors import FirmwareError
from generator.protocol.catalogue import ARG_TYPES, LINE_MAX, Catalogue

# Protocol helpers emitted only when some code block calls them (unused static functions warn).
OPTIONAL_HELPERS = ("fw_reply_text", "fw_reply_tenths", "fw_frame_text", "fw_frame_tenths", "fw_pin_has_pullup",
                    "fw_analog_index", "fw_event", "fw_watch_slot")


def _finalize(value: Any) -> Any:
    """Booleans print as C's true/false (True and False are the only booleans: no isinstance
    for each of the sketch's ~7,000 expressions)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value


# What `x.name` finds on a plain dict before its items: its methods and other attributes.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(jinja2.Environment):
    """Jinja's environment, but `x.name` on a plain dict reads its item at once when `name` is no
    attribute of dicts, as Jinja would after getattr failed: the same value, without raising
    and catching an AttributeError for every field of every command table row."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass  # Jinja's own lookup makes the undefined value
        return super().getattr(obj, attribute)


@functools.lru_cache(maxsize=8)
def make_environment(templates: Path) -> jinja2.Environment:
    """The one Jinja environment for the skeleton and every code block, made once per process
    and folder: its loader keeps the compiled skeleton (checking the files' times)."""
    env = _Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        finalize=_finalize,
    )
    env.filters["c_string"] = c_string
    return env


@functools.lru_cache(maxsize=1024)
def compiled(env: jinja2.Environment, text: str) -> jinja2.Template:
    """A code block's template, compiled once per process and text."""
    return env.from_string(text)


def expand_pins(items: list[int | str]) -> list[int]:
    """[0, "3-5"] -> [0, 3, 4, 5]."""
    out: list[int] = []
    for item in items:
        if isinstance(item, int):
            out.append(item)
        else:
            first, last = (int(x) for x in item.split("-"))
            out.extend(range(first, last + 1))
    return sorted(set(out))


def host_uart(plan: Plan) -> dict[str, Any]:
    """The UART the host is on: SERIAL_PORT among the board's `uarts`, else its `serial` port."""
    serial = plan.board["serial"]
    uarts = plan.board.get("uarts") or [{**serial, "name": serial["port"]}]
    wanted = (plan.settings.get("SERIAL_PORT") or "")[:] or serial["port"]  # [:]: plain text, not a C literal
    for uart in uarts:
        if uart["name"].lower() == wanted.lower():
            return {"name": uart["name"], "rx": uart.get("rx"), "tx": uart.get("tx"),
                    "usb_cdc": bool(uart.get("usb_cdc")),
                    "description": uart.get("description", serial.get("description", ""))}
    if not plan.settings.get("SERIAL_PORT"):
        raise FirmwareError(f"board '{plan.board['id']}': serial.port '{wanted}' is not one of its uarts",
                            f"name one of: {', '.join(u['name'] for u in uarts)}")
    raise FirmwareError(f"SERIAL_PORT = '{wanted}': board '{plan.board['id']}' has no such UART",
                        f"choose one of: {', '.join(u['name'] for u in uarts)} "
                        f"(custom_firmware_serial_port, or --set SERIAL_PORT=...)")


def rs485_de_pin(plan: Plan, uart: dict[str, Any]) -> int | None:
    """RS485_DE_PIN when set: it must be a digital pin of the board other than the UART's own."""
    pin = plan.settings.get("RS485_DE_PIN", -1)
    if not isinstance(pin, int) or pin < 0:
        return None
    if uart["usb_cdc"]:
        raise FirmwareError(f"RS485_DE_PIN = {pin}: {uart['name']} of board '{plan.board['id']}' is native USB, "
                            "no UART an RS-485 transceiver could hang on",
                            "drop custom_firmware_rs485_de_pin (or --set RS485_DE_PIN=...), or choose a UART "
                            "with custom_firmware_serial_port")
    if pin not in expand_pins(plan.board["pins"]["digital"]) or pin in (uart["rx"], uart["tx"]):
        raise FirmwareError(f"RS485_DE_PIN = {pin}: not a digital pin of board '{plan.board['id']}' "
                            f"free of {uart['name']}'s RX/TX",
                            f"choose one of: {plan.board['pins']['digital']} except {uart['rx']}, {uart['tx']} "
                            "(custom_firmware_rs485_de_pin, or --set RS485_DE_PIN=...)")
    return pin


def pin_tables(plan: Plan) -> dict[str, Any]:
    """The board's pins as C initialisers: one FW_PIN_* flags byte per pin, the serial transport's
    pins reserved."""
    pins = plan.board["pins"]
    reserved = {r["pin"]: r["reason"] for r in pins["reserved"]}
    if plan.transport.get("uses_board_serial"):
        uart = host_uart(plan)
        de_pin = rs485_de_pin(plan, uart)
        if de_pin is not None:
            reserved[de_pin] = f"RS-485 driver enable of {uart['name']} ({plan.transport['id']})"
        if not uart["usb_cdc"]:
            reserved.setdefault(uart["rx"], f"{uart['name']} RX ({plan.transport['id']})")
            reserved.setdefault(uart["tx"], f"{uart['name']} TX ({plan.transport['id']})")
    digital, pwm = expand_pins(pins["digital"]), expand_pins(pins["pwm"])
    count = max([*digital, *pwm, *pins["analog"], *reserved, 0]) + 1

    no_pullup = pins.get("no_pullup", [])
    kinds = {"FW_PIN_DIGITAL": digital, "FW_PIN_PWM": pwm, "FW_PIN_RESERVED": list(reserved),
             "FW_PIN_ANALOG": pins["analog"], "FW_PIN_NO_PULLUP": no_pullup}
    flags = [" | ".join(kind for kind, members in kinds.items() if n in members) or "0" for n in range(count)]
    return {"count": count, "flags": flags, "no_pullup_list": no_pullup,
            # each reason on one comment line
            "reserved_list": [f"{pin}: {' '.join(reason.split())}" for pin, reason in sorted(reserved.items())],
            "analog": pins["analog"], "reserved_pins": sorted(reserved)}


# The FW_PIN_* flag (pins.cpp.j2) a pin argument's pin must have, by argument type.
PIN_NEEDS = {"pin": "FW_PIN_DIGITAL", "pwm_pin": "FW_PIN_PWM", "analog_pin": "FW_PIN_ANALOG"}


def command_table(catalogue: Catalogue) -> list[dict[str, Any]]:
    """Dispatch entries from the catalogue, in op order: name, handler, argument specs (enums as
    indexes 0..last; FW_ARG_* is the type's position in catalogue.ARG_TYPES) and whether it has a
    frame form (a reply: its emitter writes the frame)."""
    table = []
    for command in catalogue.commands:
        args = [{"index": index, "name": arg.name, "type": f"FW_ARG_{arg.type.upper()}", "min": arg.minimum,
                 "max": arg.maximum, "fallback": 0 if arg.default is None else arg.default,
                 "choices": "|".join(arg.values), "pin": PIN_NEEDS.get(arg.type, "0")}
                for index, arg in enumerate(command.args)]
        table.append({"name": command.name, "handler": f"cmd_{command.name.lower()}", "args": args,
                      "min_args": command.min_args, "framed": command.reply is not None})
    return table


def used_helpers(blocks: dict[str, list[dict[str, str]]], extra: list[str]) -> frozenset[str]:
    """The OPTIONAL_HELPERS some code block (or `extra` code, the emitters) calls: the
    identifiers of the code, comments and literals left out."""
    code = "\n".join([part["code"] for parts in blocks.values() for part in parts] + extra)
    return cscan.identifiers(code) & set(OPTIONAL_HELPERS)


def check_symbols(kind: str, definition: dict[str, Any], path: str, arch: str,
                  parts: dict[str, list[dict[str, str]]]) -> None:
    """What the definition declares, its code must define (read by cscan): a command its handler
    `static void cmd_<id>(const long* args)`, a transport `static void fw_write(uint8_t c)` (how
    a reply's bytes leave), setup and loop the functions they name, void and without parameters."""
    defined = cscan.functions("\n".join(part["code"] for name in ("globals", "functions") for part in parts[name]))
    wanted = {f"code.{name}": part["call"] for name in ("setup", "loop") for part in parts[name]}
    for field, symbol in wanted.items():
        found = defined.get(symbol)
        if not found or found.params not in ("", "void") or "void" not in found.returns.split():
            raise FirmwareError(f"{path}: {field} names {symbol}, which its code for architecture {arch} "
                                "does not define as a function without parameters",
                                f"define static void {symbol}() in one of its globals or functions files")
    writer = defined.get("fw_write")
    if kind == "transport" and (writer is None or "void" not in writer.returns.split()
                                or not re.fullmatch(r"uint8_t( \w+)?", writer.params)):
        raise FirmwareError(f"{path}: no fw_write for architecture {arch}",
                            "its code must define static void fw_write(uint8_t c), which sends one byte of a reply "
                            "to the host: straight to its port, or fw_out->write(c) where the port changes")
    handler = defined.get(f"cmd_{definition['id']}")
    if kind == "command" and (handler is None or "void" not in handler.returns.split()
                              or not re.fullmatch(r"const long \*( \w+)?", handler.params)):
        raise FirmwareError(f"{path}: no handler for architecture {arch}",
                            f"its code must define: static void cmd_{definition['id']}(const long* args)")


class Renderer:
    """Renders plans with the templates of one folder and the code of one definitions folder."""

    def __init__(self, defs: Definitions, templates: Path) -> None:
        self.defs = defs
        self.env = make_environment(templates)

    def code_context(self, plan: Plan) -> dict[str, Any]:
        """What code blocks see: board, transport, settings (also by bare NAME), info_fields
        (what INFO's reply holds after its "cmd")."""
        catalogue = plan.catalogue
        info = {"board": plan.board["id"], "transport": plan.transport["id"], "fw": __version__,
                "hash": plan.hash, "catalogue": catalogue.hash, "capabilities": plan.capabilities,
                "window": plan.transport["window"], "checksum": catalogue.constants["checksum"], "ids": 1,
                "frames": catalogue.constants["frames"]}
        keys = [name for name, decl in plan.transport.get("settings", {}).items() if decl["type"] == "key"]
        if keys:  # a transport that can take a key says whether it has one (Noise, docs/protocol.md)
            info["auth"] = "noise" if plan.settings[keys[0]] else "none"
        uart = host_uart(plan) if plan.transport.get("uses_board_serial") else None
        return {"board": plan.board, "transport": plan.transport, "arch": plan.architecture, "uart": uart,
                "settings": plan.settings, **plan.settings,
                "info_fields": "," + json.dumps(info, separators=(",", ":"))[1:] + "\n"}

    def render_block(self, code: str | list[str], origin: str, context: dict[str, Any]) -> str:
        """The code of @file: references: .cpp and .h files as they are, .j2 files rendered with
        Jinja; errors name the definition, the block and the file."""
        pieces = [self._render(text, origin, context) if template else text
                  for text, template in self.defs.read_code(code, origin)]
        return "\n".join(piece.rstrip("\n") for piece in pieces).strip("\n")

    def _render(self, text: str, origin: str, context: dict[str, Any]) -> str:
        try:
            return compiled(self.env, text).render(context)
        except jinja2.UndefinedError as exc:
            raise FirmwareError(f"{origin}: {exc.message}",
                                f"available: board, transport, arch, settings: "
                                f"{', '.join(context['settings']) or 'none'}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise FirmwareError(f"{origin}: template error on line {exc.lineno}: {exc.message}",
                                "C++ in a .j2 file that holds '{{' or '{%' must write it as '{ {' or '{ %'") from None

    def blocks(self, plan: Plan) -> dict[str, list[dict[str, str]]]:
        """Each block kind's code from the transport then every command, for the board's arch:
        includes as #include lines, setup and loop as calls, globals and functions from files."""
        context = self.code_context(plan)
        out: dict[str, list[dict[str, str]]] = {name: [] for name in BLOCKS}
        parts = [("transport", plan.transport)] + [("command", c) for c in plan.commands]
        commands = {c.name.lower(): c for c in plan.catalogue.commands}
        for kind, definition in parts:
            path = self.defs.shown(kind, definition["id"])
            mine: dict[str, list[dict[str, str]]] = {name: [] for name in BLOCKS}
            for name in BLOCKS:
                block = definition["code"].get(name, {})
                key = plan.architecture if plan.architecture in block else "*"
                if key not in block:
                    continue
                value = block[key]
                part = {"origin": f"{kind} {definition['id']}"}
                if name == "includes":
                    part["code"] = "\n".join(f"#include <{header}>" for header in value)
                elif name in ("setup", "loop"):
                    part.update(code=f"{value}();", call=value)
                else:
                    part["code"] = self.render_block(value, f"{path}: code.{name}[{key}]", context)
                mine[name].append(part)
                out[name].append(part)
            check_symbols(kind, definition, path, plan.architecture, mine)
            if kind == "command":
                own = "\n".join(part["code"] for name in BLOCKS for part in mine[name])
                wrong = emitters.problems(commands[definition["id"]], own, f"{path} [{plan.architecture}]")
                if wrong:
                    raise FirmwareError("\n".join(wrong), "a handler passes its reply's values to its emitter, "
                                        "in the order of `reply`, and writes the reply no other way")
        return out

    def render(self, plan: Plan, sketch_name: str) -> str:
        """The complete sketch; fails rather than leave a template marker in it."""
        blocks = self.blocks(plan)
        includes: list[str] = []
        for part in blocks.pop("includes"):
            includes += [line for line in part["code"].splitlines() if line.strip() and line not in includes]
        catalogue = plan.catalogue
        commands = command_table(catalogue)
        emitter_code = emitters.emitters(catalogue.commands)
        context = {
            **blocks, "uses": used_helpers(blocks, emitter_code), "includes": includes, "sketch_name": sketch_name,
            "version": __version__,
            "board": plan.board, "transport": plan.transport, "hash": plan.hash,
            "capabilities": plan.capabilities, "pins": pin_tables(plan), "commands": commands,
            "emitters": emitter_code,
            "line_max": LINE_MAX, "arg_types": [f"FW_ARG_{t.upper()}" for t in ARG_TYPES],
            "max_args": max([len(c["args"]) for c in commands] + [0]),
            "bound_type": "int16_t" if all(-32768 <= a[k] <= 32767 for c in commands for a in c["args"]
                                           for k in ("min", "max", "fallback")) else "long",
            "frame_ops": catalogue.frame_ops, "catalogue_blob": [f"0x{b:02X}" for b in catalogue.board_blob()],
            "catalogue_hash": catalogue.hash,
        }
        try:
            text = self.env.get_template("sketch.ino.j2").render(context)
        except jinja2.TemplateError as exc:
            raise FirmwareError(f"templates/: {exc}") from None
        leftover = TEMPLATE_SYNTAX.search(text)
        if leftover:
            raise FirmwareError(f"the generated sketch still holds '{leftover.group(0)}'",
                                "a definition's code contains template syntax that was not rendered")
        return text
