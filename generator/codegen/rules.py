"""What a JSON schema cannot say about a definition: the rules that make its values render into
C++ that compiles and behaves as declared. Each problem names the field and the rule broken.

The three targets (AVR, ESP8266, CH32V) have a 32-bit `long`, which holds every argument and
integer setting; pins go into `uint8_t` tables.
"""
from __future__ import annotations

from typing import Any

LONG_MIN, LONG_MAX = -(2 ** 31), 2 ** 31 - 1
PIN_MAX = 255
PIN_TYPES = ("pin", "analog_pin", "pwm_pin")
CODE_FILES = (".cpp", ".h", ".cpp.j2", ".h.j2")


def rule_problems(kind: str, data: dict[str, Any]) -> list[str]:
    """Every rule a schema-valid definition of `kind` breaks, as 'field: what (rule: ...)'."""
    found = _settings_problems(data.get("settings", {}))
    if kind in ("command", "transport"):
        found += _code_problems(data["code"])
    if kind == "command":
        found += _args_problems(data.get("args", []))
        found += _reply_problems(data.get("reply"))
    if kind == "board":
        found += _board_problems(data)
    return found


def _code_problems(code: dict[str, Any]) -> list[str]:
    """globals and functions hold '@file:PATH' lines naming C++ files (or blank lines): the C++
    itself lives in .cpp/.h files, which editors and clang-format read, never in JSON strings."""
    found: list[str] = []
    for block in ("globals", "functions"):
        for arch, value in code.get(block, {}).items():
            lines = value.splitlines() if isinstance(value, str) else value
            for number, line in enumerate(lines):
                text = line.strip()
                field = f"code.{block}[{arch}]" + (f"[{number}]" if isinstance(value, list) else "")
                if text and not text.startswith("@file:"):
                    shown = text[:40] + "..." * (len(text) > 40)
                    found.append(f"{field}: '{shown}' is C++ inside the JSON (rule: code lives in files "
                                 "under definitions/, named by '@file:PATH' lines)")
                elif text and not text.endswith(CODE_FILES):
                    found.append(f"{field}: {text} is no C++ file (rule: a code file ends in "
                                 f"{', '.join(CODE_FILES)}; Jinja2 only in .j2)")
    return found


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _range_problems(field: str, decl: dict[str, Any]) -> list[str]:
    """minimum/maximum: within the target's long, and minimum <= maximum."""
    found = [f"{field}.{key} = {decl[key]} is outside the target's 32-bit long "
             f"(rule: integers from {LONG_MIN} to {LONG_MAX})"
             for key in ("minimum", "maximum") if key in decl and not LONG_MIN <= decl[key] <= LONG_MAX]
    if decl.get("minimum", LONG_MIN) > decl.get("maximum", LONG_MAX):
        found.append(f"{field}: minimum {decl['minimum']} is above maximum {decl['maximum']} "
                     "(rule: minimum <= maximum)")
    return found


def _integer_default(field: str, decl: dict[str, Any]) -> list[str]:
    """An integer default: an integer, inside minimum..maximum and the target's long."""
    value = decl["default"]
    if not _is_int(value):
        return [f"{field}.default = {value!r} is not an integer (rule: a default has the declared type)"]
    low, high = decl.get("minimum", LONG_MIN), decl.get("maximum", LONG_MAX)
    if not max(low, LONG_MIN) <= value <= min(high, LONG_MAX):
        return [f"{field}.default = {value} is outside {max(low, LONG_MIN)}..{min(high, LONG_MAX)} "
                "(rule: a default lies inside its range)"]
    return []


def _settings_problems(settings: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for name, decl in settings.items():
        field = f"settings.{name}"
        kind = decl["type"]
        if kind == "integer":
            found += _range_problems(field, decl)
            if "default" in decl:
                found += _integer_default(field, decl)
        elif kind == "string":
            if decl.get("minLength", 0) > decl.get("maxLength", decl.get("minLength", 0)):
                found.append(f"{field}: minLength {decl['minLength']} is above maxLength {decl['maxLength']} "
                             "(rule: minLength <= maxLength)")
            if "default" in decl:
                value = decl["default"]
                if not isinstance(value, str):
                    found.append(f"{field}.default = {value!r} is not a string "
                                 "(rule: a default has the declared type)")
                elif not decl.get("minLength", 0) <= len(value.encode("utf-8")) <= decl.get("maxLength", 1 << 30):
                    found.append(f"{field}.default is {len(value.encode('utf-8'))} bytes long, outside "
                                 f"minLength..maxLength (rule: a default lies inside its range)")
        elif kind == "boolean" and "default" in decl and not isinstance(decl["default"], bool):
            found.append(f"{field}.default = {decl['default']!r} is not true or false "
                         "(rule: a default has the declared type)")
    return found


RESERVED_KEYS = ("ok", "id", "cmd", "error", "arg", "event")  # what the protocol writes besides the fields


def _reply_problems(reply: list[str | dict[str, str]] | None) -> list[str]:
    found: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(reply or []):
        name = item if isinstance(item, str) else item["name"]
        if name in seen:
            found.append(f"reply[{index}] ({name}) is named twice (rule: each reply field has its own name)")
        if name in RESERVED_KEYS:
            found.append(f"reply[{index}] ({name}) is a key the protocol writes itself "
                         f"(rule: a reply field is none of {', '.join(RESERVED_KEYS)})")
        seen.add(name)
    return found


def _args_problems(args: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    optional: str | None = None
    names: set[str] = set()
    for index, arg in enumerate(args):
        field = f"args[{index}] ({arg['name']})"
        if arg["name"] in names:
            found.append(f"{field} is named like an earlier argument (rule: each argument has its own name)")
        names.add(arg["name"])
        kind = arg["type"]
        if kind == "integer":
            found += _range_problems(field, arg)
        if "default" in arg:
            optional = optional or field
            value = arg["default"]
            if kind == "integer":
                found += _integer_default(field, arg)
            elif kind == "enum" and value not in arg["values"]:
                found.append(f"{field}.default = {value!r} is not one of its values {arg['values']} "
                             "(rule: an enum's default is one of its values)")
            elif kind in PIN_TYPES and not (_is_int(value) and 0 <= value <= PIN_MAX):
                found.append(f"{field}.default = {value!r} is not a pin number 0..{PIN_MAX} "
                             "(rule: a default has the declared type)")
        elif optional:
            found.append(f"{field} is required but follows the optional {optional} "
                         "(rule: required arguments come before optional ones)")
    return found


def _pin_items(field: str, items: list[int | str]) -> tuple[list[int], list[str]]:
    """The end points of a pin list's numbers and ranges, and its malformed ranges."""
    numbers: list[int] = []
    found: list[str] = []
    for index, item in enumerate(items):
        if isinstance(item, int):
            numbers.append(item)
            continue
        first, last = (int(x) for x in item.split("-"))
        if first > last:
            found.append(f"{field}[{index}]: range '{item}' holds no pin "
                         "(rule: a range is written first-last with first <= last)")
        numbers += [first, last]
    return numbers, found


def _spans(items: list[int | str]) -> list[tuple[int, int]]:
    return [(i, i) if isinstance(i, int) else tuple(int(x) for x in i.split("-")) for i in items]  # type: ignore[misc]


def _board_problems(board: dict[str, Any]) -> list[str]:
    pins = board["pins"]
    found: list[str] = []
    numbers: dict[str, list[int]] = {}
    for name in ("digital", "pwm"):
        numbers[f"pins.{name}"], bad = _pin_items(f"pins.{name}", pins[name])
        found += bad
    numbers["pins.analog"] = list(pins["analog"])
    numbers["pins.reserved"] = [r["pin"] for r in pins["reserved"]]
    numbers["serial"] = [board["serial"][end] for end in ("rx", "tx") if end in board["serial"]]
    for field, values in numbers.items():
        found += [f"{field}: pin {pin} does not fit the firmware's uint8_t pin tables "
                  f"(rule: pins 0..{PIN_MAX})" for pin in values if pin > PIN_MAX]
    if found:
        return found
    digital = _spans(pins["digital"])
    for first, last in _spans(pins["pwm"]):
        outside = [p for p in range(first, last + 1) if not any(a <= p <= b for a, b in digital)]
        if outside:
            found.append(f"pins.pwm: pin {outside[0]} is not in pins.digital "
                         "(rule: a PWM pin is a digital pin)")
    return found


def pin_default_problems(board: dict[str, Any], command: dict[str, Any]) -> list[str]:
    """A pin argument's default must be a pin of that kind on the board, and not a reserved one:
    the firmware uses it unchecked when the argument is left out."""
    pins = board["pins"]
    usable = {"pin": _spans(pins["digital"]), "pwm_pin": _spans(pins["pwm"]),
              "analog_pin": [(p, p) for p in pins["analog"]]}
    reserved = {r["pin"] for r in pins["reserved"]}
    found = []
    for index, arg in enumerate(command.get("args", [])):
        if arg["type"] in usable and "default" in arg:
            pin = arg["default"]
            if pin in reserved or not any(a <= pin <= b for a, b in usable[arg["type"]]):
                found.append(f"args[{index}] ({arg['name']}).default = {pin} is no usable {arg['type']} of "
                             f"board '{board['id']}' (rule: a pin default is a pin of the board)")
    return found
