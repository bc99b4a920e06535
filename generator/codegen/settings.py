"""Typed settings: raw option text checked against its declaration and turned into C literals."""
from __future__ import annotations

import os
from typing import Any

from generator.codegen.selection import Selection
from generator.errors import FirmwareError
from generator.values import parse_bool, parse_key

KEYGEN = "python -m generator keygen"


class CString(str):
    """A string setting: renders in code as a correctly escaped C string literal."""

    def __str__(self) -> str:
        return c_string(self)


def c_string(text: str) -> str:
    """A C string literal for `text`: ASCII printable kept, everything else as octal escapes.

    Octal escapes always take three digits, so the next character can never extend them, and
    '?' is escaped so no trigraph can form: the literal means exactly `text`, UTF-8 encoded.
    A '{' before '{', '%' or '#' is escaped too, so that a value never looks like template
    syntax left in the sketch: '{{' in a WiFi password is data.
    """
    data = text.encode("utf-8")
    out = ['"']
    for index, byte in enumerate(data):
        char = chr(byte)
        if char == "{" and data[index + 1:index + 2] in (b"{", b"%", b"#"):
            out.append(f"\\{byte:03o}")
        elif char in '"\\?':
            out.append("\\" + char)
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    out.append('"')
    return "".join(out)


class CKey(bytes):
    """A key setting: renders in code as a C array initializer of its bytes; empty: no key."""

    def __str__(self) -> str:
        return "{" + ", ".join(f"0x{byte:02X}" for byte in self) + "}"


def coerce(name: str, decl: dict[str, Any], raw: Any, option: str, variable: str = "") -> Any:
    """Check a raw value (text from platformio.ini, or a JSON default) against its declaration;
    `option` says where the value came from, `variable` the environment variable a key is meant
    to come from. A secret's value is never shown in a message."""
    kind = decl["type"]
    if kind == "key":
        return CKey(parse_key(str(raw), name, option, f"make one with `{KEYGEN}`, export {variable}=<it> and "
                                                      f"read it with ${{sysenv.{variable}}}"))
    shown = "(secret, not shown)" if decl.get("secret") else repr(raw)
    if kind == "boolean":
        try:
            return parse_bool(raw, name, option)
        except FirmwareError as exc:
            if decl.get("secret"):
                raise FirmwareError(f"{name} = {shown} ({option}): must be true or false", exc.hint) from None
            raise
    if kind == "integer":
        value = raw if isinstance(raw, int) and not isinstance(raw, bool) else _parse_int(str(raw))
        low, high = decl.get("minimum"), decl.get("maximum")
        if value is None or (low is not None and value < low) or (high is not None and value > high):
            span = f" from {low} to {high}" if low is not None and high is not None else ""
            raise FirmwareError(f"{name} = {shown} ({option}): must be an integer{span}")
        return value
    text = str(raw)
    size = len(text.encode("utf-8"))
    if size < decl.get("minLength", 0) or size > decl.get("maxLength", size):
        raise FirmwareError(f"{name} ({option}): must be {decl.get('minLength', 0)} to "
                            f"{decl.get('maxLength', 'any')} bytes long in UTF-8, got {size}")
    return CString(text)


def _parse_int(text: str) -> int | None:
    try:
        return int(text.strip(), 10)
    except ValueError:
        return None


def resolve_settings(declared: dict[str, tuple[dict[str, Any], str]], sel: Selection) -> dict[str, Any]:
    """Typed values for every declared setting: the selection's text, else the default.

    `declared` maps NAME to (declaration, the file declaring it). A setting with neither value
    nor default is an error saying which option to add.
    """
    values: dict[str, Any] = {}
    for name, (decl, origin) in sorted(declared.items()):
        if name in sel.settings:
            unset = [var for var in sel.env_vars.get(name, ()) if not os.environ.get(var)]
            if decl.get("secret") and not sel.settings[name] and unset:
                raise FirmwareError(
                    f"{name} is empty ({sel.option(name)}): it reads the environment variable "
                    f"{', '.join(unset)}, which is unset or empty",
                    f"export {unset[0]}=... before the build; for no {name} at all, write "
                    f"{sel.option_name(name)} = (nothing) in {sel.origin}")
            variables = sel.env_vars.get(name, ())
            option = sel.option(name) + (f", from {', '.join(variables)}" if variables else "")
            values[name] = coerce(name, decl, sel.settings[name], option, key_variable(name, variables))
        elif "default" in decl:
            values[name] = coerce(name, decl, decl["default"], f"default in {origin}", key_variable(name, ()))
        else:
            raise FirmwareError(f"missing setting {name}: {decl['description']}", sel.how_to_set(name))
    return values


def key_variable(name: str, variables: tuple[str, ...] | list[str]) -> str:
    """The environment variable a key setting is read from: the one the option names, else
    FIRMWARE_<NAME> (as the README and hardware.ini.example write it)."""
    return variables[0] if variables else f"FIRMWARE_{name}"
