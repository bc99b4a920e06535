"""Reply emitters: one C function per command with a `reply`, generated from the catalogue, as
Klipper's sendf format strings are (docs/protocol.md, "Catalogue"). `fw_reply_<id>(...)` takes
one typed parameter per reply field, in order, and writes the reply: JSON keys, or the frame the
catalogue implies (the echoed fields left out, a lone small number in the header), decided here
once rather than by the board per reply; the JSON form through a writer shared by every reply
of the same field types (`fw_json_<types>`). A handler supplies values only, so it cannot misname,
reorder or forget a field. `problems` refuses a handler that writes its reply any other way, or
calls its emitter with another number of values."""
from __future__ import annotations

import re

from generator.protocol.catalogue import Command, Field

C_TYPES = {"int": "long", "text": "const char*", "tenths": "int"}
# The core's reply writers, the emitters': only a command without a `reply` (INFO, CATALOGUE)
# calls fw_reply_begin and fw_reply_end itself.
WRITERS = {"int": "fw_reply_int", "text": "fw_reply_text", "tenths": "fw_reply_tenths"}
FRAME_WRITERS = {"int": "fw_put_vlq", "text": "fw_frame_text", "tenths": "fw_frame_tenths"}
RAW_WRITERS = ("fw_reply_begin", "fw_reply_end", "fw_reply_key", *WRITERS.values(), *FRAME_WRITERS.values(),
               "fw_frame_head", "fw_frame_end", "fw_frame_one", "fw_frame_none")


def emitter_name(command: Command) -> str:
    return f"fw_reply_{command.name.lower()}"


# An emitter's JSON half is a function of its own, shared by every reply with the same field
# types (the keys are its arguments): the frame half then saves no registers for it (issue 19).
JSON_LETTERS = {"int": "i", "text": "t", "tenths": "d"}
JSON_WRITER = re.compile(r"\bfw_json_[itd]+\s*\(")


def json_writer_name(fields: tuple[Field, ...]) -> str:
    return "fw_json_" + "".join(JSON_LETTERS[f.type] for f in fields)


def json_writer(fields: tuple[Field, ...]) -> str:
    """The JSON reply of fields of these types, each after its key (a flash string)."""
    params = ", ".join(f"const __FlashStringHelper* k{i}, {C_TYPES[f.type]} v{i}" for i, f in enumerate(fields))
    writes = "".join(f"  {WRITERS[f.type]}(k{i}, v{i});\n" for i, f in enumerate(fields))
    return (f"__attribute__((noinline)) static void {json_writer_name(fields)}({params}) {{\n"
            f"  fw_reply_begin();\n{writes}  fw_reply_end();\n}}")


def key_name(field: str) -> str:
    """The flash string holding a reply key, shared by every emitter that writes it."""
    return f"FW_KEY_{field}"


def frame_writes(values: list[Field]) -> str:
    """The statements writing a whole success frame of these values (docs/protocol.md, "Reply")."""
    if not values:
        return "fw_frame_none();"
    if len(values) == 1 and values[0].type == "int":
        return f"fw_frame_one({values[0].name});"
    writes = "".join(f"\n    {FRAME_WRITERS[f.type]}({f.name});" for f in values)
    return f"fw_frame_head({len(values)});{writes}\n    fw_frame_end();"


def emitters(commands: tuple[Command, ...]) -> list[str]:
    """The C emitters of the commands with a `reply`, after the key strings they write: each
    writes its fields' keys, in order, with their types, or its frame. A command whose reply has
    the same fields and echoes as an earlier one's forwards to that one's emitter, so the body is
    in flash once."""
    replying = [c for c in commands if c.reply is not None]
    keys = sorted({f.name for c in replying for f in c.reply or ()})
    out = [f'static const char {key_name(k)}[] FW_FLASH = "{k}";' for k in keys]
    first: dict[tuple[tuple[tuple[str, str], ...], tuple[int, ...]], Command] = {}
    json_writers = {json_writer_name(c.reply or ()): json_writer(c.reply or ()) for c in replying if c.reply}
    out += [json_writers[name] for name in sorted(json_writers)]
    for command in replying:
        fields = command.reply or ()
        params = ", ".join(f"{C_TYPES[f.type]} {f.name}" for f in fields) or "void"
        shape = (tuple((f.name, f.type) for f in fields), command.echoes)
        names = ", ".join(f.name for f in fields)
        if shape in first:
            body = f"  {emitter_name(first[shape])}({names});\n"
        else:
            first[shape] = command
            values = [f for i, f in enumerate(fields) if i not in command.echoes]
            keyed = ", ".join(f"FW_CODE({key_name(f.name)}), {f.name}" for f in fields)
            json = f"  {json_writer_name(fields)}({keyed});\n" if fields else "  fw_reply_begin();\n  fw_reply_end();\n"
            body = f"  if (fw_in_frame()) {{\n    {frame_writes(values)}\n    return;\n  }}\n{json}"
        out.append(f"static void {emitter_name(command)}({params}) {{\n{body}}}")
    return out


def call_arguments(code: str, start: int) -> list[str] | None:
    """The top-level arguments of the call whose '(' is at code[start], or None when it does
    not close (strings, character literals and nested parentheses are skipped)."""
    depth, args, current, at = 0, [], "", start
    while at < len(code):
        char = code[at]
        if char in "\"'":
            end = at + 1
            while end < len(code) and code[end] != char:
                end += 2 if code[end] == "\\" else 1
            current += code[at:end + 1]
            at = end + 1
            continue
        if char in "([{":
            depth += 1
            if depth == 1:
                at += 1
                continue
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                args.append(current.strip())
                return [] if args == [""] else args
        elif char == "," and depth == 1:
            args.append(current.strip())
            current = ""
            at += 1
            continue
        current += char
        at += 1
    return None


def problems(command: Command, code: str, origin: str) -> list[str]:
    """What is wrong with how a command's code writes its reply: with a `reply`, only through
    its emitter, every call with one value per field; without one, no emitter exists."""
    found = []
    name = emitter_name(command)
    calls = [m.end() - 1 for m in re.finditer(rf"\b{name}\s*\(", code)]
    if command.reply is None:
        if calls:
            found.append(f"{origin}: calls {name}() but the command declares no `reply`")
        return found
    writers = [w for w in RAW_WRITERS if re.search(rf"\b{w}\s*\(", code)]
    writers += [m.group().rstrip("( \t\n") for m in JSON_WRITER.finditer(code)]
    for writer in writers:
        found.append(f"{origin}: writes its reply with {writer}(); a command with a `reply` answers "
                     f"through {name}({', '.join(f.name for f in command.reply)})")
    if not calls:
        found.append(f"{origin}: never calls {name}(): its `reply` lists "
                     f"{', '.join(f.name for f in command.reply) or 'no fields'}")
    for at in calls:
        args = call_arguments(code, at)
        if args is not None and len(args) != len(command.reply):
            found.append(f"{origin}: {name}() called with {len(args)} value(s), but its `reply` has "
                         f"{len(command.reply)}: {', '.join(f.name for f in command.reply) or 'none'}")
    return found
