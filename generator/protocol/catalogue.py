"""One firmware's protocol dictionary (docs/protocol.md, "Catalogue"): its commands in op order
(the capabilities as INFO lists them, then the system commands), each command's arguments as the
firmware checks them, its reply fields with their types, which fields echo an argument, and the
protocol's constants. Plain data with a stable JSON form and a hash: the generator builds the
firmware's dispatch table and reply emitters from it, INFO reports its hash, the board reports
the whole of it (CATALOGUE), and the host builds its frame forms from what the board reported.
"""
from __future__ import annotations

import functools
import hashlib
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from generator.errors import FirmwareError

PROTOCOL = 1
LINE_MAX = 64      # bytes of a text request line
FRAME_OPS = 32     # a request frame's header holds the op in 5 bits: the catalogue's first 32 commands
FRAME_ARGS = 3     # and its argument count in 2
ECHO_FIELDS = 8    # the echo mask is one byte: only the first 8 reply fields can be left out
# Argument types, in the order of the firmware's FW_ARG_* codes (the board reports the code).
ARG_TYPES = ("integer", "pin", "analog_pin", "pwm_pin", "enum")
# Reply field types, and the suffix that marks them in the board's reply spec ("pin|model:t").
FIELD_TYPES = {"int": "", "text": ":t", "tenths": ":d"}
# Every error code the protocol core answers with; the refusals among them say the request was
# damaged on its way and not executed (JSON mode answers them with "cmd":"").
ERRORS = ("bad_args", "bad_checksum", "bad_frame", "bad_pin", "bad_request", "line_too_long", "overrun",
          "reserved_pin", "unknown_command")
REFUSALS = ("bad_checksum", "bad_frame", "bad_request", "line_too_long", "overrun")
CONSTANTS: dict[str, Any] = {
    "protocol": PROTOCOL, "line_max": LINE_MAX, "checksum": "crc8", "frames": "crc7",
    "frame_ops": FRAME_OPS, "frame_args": FRAME_ARGS, "echo_fields": ECHO_FIELDS,
    # System commands with a reply (PING, CHECKSUM, FRAMES, RESET) have frame forms too, their op
    # their place in the catalogue; before issue 19 only capabilities did. In the hash: a board
    # from before is then refused frames by name, never sent a system op it would not know.
    "frame_system": 1,
    "errors": list(ERRORS), "refusals": list(REFUSALS),
}
INT32 = (-2**31, 2**31 - 1)
# The preset dictionary both sides deflate the board's catalogue with (raw deflate, RFC 1951, with
# a preset dictionary as RFC 1950's FDICT): the lines of every command shipped with protocol 1, as
# they were then. A catalogue of shipped commands takes ~15 bytes of flash instead of ~230; any
# other line still deflates, only less. Frozen with the protocol version, never regenerated: a
# board deflated with another dictionary would not unpack (tests/protocol pins its digest).
BOARD_DICTIONARY = b"""0 1 ANALOG_READ >pin|value pin 2 0 0 0 -
0 2 ANALOG_WATCH >pin|interval|value pin 2 0 0 0 - interval 0 0 60000 0 -
0 1 DHT_READ >pin|model:t|temperature:d|humidity:d pin 1 0 0 0 - model 4 0 1 0 dht22|dht11
0 1 GPIO_READ >pin|value pin 1 0 0 0 - pull 4 0 1 0 none|up
0 2 GPIO_WATCH >pin|watch|value pin 1 0 0 0 - watch 0 0 1 0 -
0 2 GPIO_WRITE >pin|value pin 1 0 0 0 - value 0 0 1 0 -
0 2 PWM_WRITE >pin|duty pin 3 0 0 0 - duty 0 0 255 0 -
0 2 RELAY_SET >pin|state pin 1 0 0 0 - state 0 0 1 0 -
1 1 CATALOGUE - offset 0 0 32767 0 -
1 1 CHECKSUM >on on 0 0 1 0 -
1 1 FRAMES >on on 0 0 1 0 -
1 0 INFO -
1 0 PING >
1 0 RESET >"""
CATALOGUE_MAX_TEXT = 1 << 20  # bytes a reported catalogue may unpack to (a deflate bomb is refused)


def _bad(what: str) -> FirmwareError:
    return FirmwareError(f"malformed catalogue: {what}",
                         "the board or file holds a catalogue this host cannot read: regenerate or reflash")


@dataclass(frozen=True)
class Arg:
    """One argument as the firmware checks it: enums as the index of their word (0..last),
    `default` the value of an omitted optional argument (None: required)."""

    name: str
    type: str
    minimum: int
    maximum: int
    default: int | None = None
    values: tuple[str, ...] = ()

    def echo(self, value: int | str) -> int | str:
        """What JSON mode echoes for this argument: an enum's word, else the number."""
        if self.type == "enum" and isinstance(value, int) and 0 <= value < len(self.values):
            return self.values[value]
        return value


@dataclass(frozen=True)
class Field:
    """One reply field: its JSON key and its type (int, text, or tenths: a decimal with one place)."""

    name: str
    type: str = "int"


@dataclass(frozen=True)
class Command:
    """One command: UPPERCASE name, arguments, and reply fields in order (None: no frame form,
    its handler writes its own JSON reply: INFO, CATALOGUE)."""

    name: str
    args: tuple[Arg, ...] = ()
    reply: tuple[Field, ...] | None = None
    system: bool = False

    @property
    def min_args(self) -> int:
        return sum(1 for arg in self.args if arg.default is None)

    @property
    def echoes(self) -> tuple[int, ...]:
        """Positions of the reply fields named like an argument: they echo it, so a reply frame
        leaves them out and the host fills them in from its request."""
        names = {arg.name for arg in self.args}
        return tuple(i for i, f in enumerate(self.reply or ()) if f.name in names and i < ECHO_FIELDS)

    @property
    def echo_mask(self) -> int:
        return sum(1 << i for i in self.echoes)

    @property
    def values(self) -> int:
        """How many values its reply frame carries (its fields less the echoes)."""
        return len(self.reply or ()) - len(self.echoes)

    @property
    def reply_spec(self) -> str | None:
        """The reply as the board stores and reports it: "pin|model:t|temperature:d"."""
        if self.reply is None:
            return None
        return "|".join(f.name + FIELD_TYPES[f.type] for f in self.reply)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "system": self.system,
                "args": [{"name": a.name, "type": a.type, "minimum": a.minimum, "maximum": a.maximum,
                          "default": a.default, "values": list(a.values)} for a in self.args],
                "reply": None if self.reply is None else [{"name": f.name, "type": f.type} for f in self.reply]}


@dataclass(frozen=True)
class Catalogue:
    """The commands of one firmware in op order, and the protocol's constants."""

    commands: tuple[Command, ...]
    constants: Mapping[str, Any]

    @property
    def capabilities(self) -> list[str]:
        """The non-system commands' names: INFO's list, in op order."""
        return [c.name for c in self.commands if not c.system]

    @property
    def frame_ops(self) -> int:
        """How many ops a frame's header can name: the catalogue's first commands."""
        return min(len(self.commands), FRAME_OPS)

    def framed(self) -> dict[str, tuple[int, Command]]:
        """UPPERCASE name -> (op, command) of the commands that travel in frames: the first 32
        of the catalogue (capabilities, then system commands) that declare a reply."""
        return {c.name: (op, c) for op, c in enumerate(self.commands[:self.frame_ops]) if c.reply is not None}

    def to_json(self) -> dict[str, Any]:
        return {"constants": dict(self.constants), "commands": [c.to_json() for c in self.commands]}

    def dumps(self) -> str:
        """The stable JSON form: sorted keys, no spaces; what the hash covers."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    @functools.cached_property
    def hash(self) -> str:
        """8 hex digits of the SHA-256 of the stable JSON form: INFO's `catalogue` (computed once:
        the catalogue is frozen, and a generation asks three times)."""
        return hashlib.sha256(self.dumps().encode()).hexdigest()[:8]

    @classmethod
    def from_json(cls, data: Any) -> Catalogue:
        """From the stable JSON form (a file's, or the board's): anything malformed raises
        FirmwareError."""
        if not isinstance(data, dict) or not isinstance(data.get("commands"), list) \
                or not isinstance(data.get("constants"), dict):
            raise _bad("expected an object with 'constants' and 'commands'")
        commands = []
        for raw in data["commands"]:
            if not isinstance(raw, dict) or not isinstance(raw.get("args"), list):
                raise _bad(f"command {raw!r:.80}")
            args = tuple(_arg(a.get("name"), a.get("type"), a.get("minimum"), a.get("maximum"), a.get("default"),
                              a.get("values")) if isinstance(a, dict) else _arg(None, None, None, None, None, None)
                         for a in raw["args"])
            reply = raw.get("reply")
            if reply is not None and not isinstance(reply, list):
                raise _bad(f"reply {reply!r:.80}")
            fields = None if reply is None else tuple(
                _field(f.get("name"), f.get("type")) if isinstance(f, dict) else _field(None, None) for f in reply)
            commands.append(_command(raw.get("name"), args, fields, raw.get("system")))
        return cls(tuple(commands), data["constants"])

    @classmethod
    def loads(cls, text: str) -> Catalogue:
        try:
            return cls.from_json(json.loads(text))
        except (ValueError, RecursionError) as exc:
            raise _bad(f"not JSON: {exc}") from None

    @classmethod
    def from_definitions(cls, commands: Sequence[Mapping[str, Any]]) -> Catalogue:
        """From resolved command definitions, in op order (codegen's plan)."""
        out = []
        for definition in commands:
            args = []
            for arg in definition.get("args", []):
                values = tuple(arg.get("values", ()))
                default = arg.get("default")
                low, high = arg.get("minimum", 0), arg.get("maximum", 0)
                if arg["type"] == "enum":
                    low, high = 0, len(values) - 1
                    default = None if default is None else values.index(default)
                args.append(Arg(arg["name"], arg["type"], low, high, default, values))
            reply = definition.get("reply")
            fields = None if reply is None else tuple(
                Field(f) if isinstance(f, str) else Field(f["name"], f.get("type", "int")) for f in reply)
            out.append(Command(definition["id"].upper(), tuple(args), fields, bool(definition.get("system"))))
        return cls(tuple(out), dict(CONSTANTS))

    def board_text(self) -> str:
        """The catalogue as the board keeps it: one line per op, "system min NAME >reply-spec"
        ("-": no reply), then for each argument "name type minimum maximum default values"
        (type: its ARG_TYPES index; values "-" when none)."""
        lines = []
        for c in self.commands:
            words = [str(int(c.system)), str(c.min_args), c.name, "-" if c.reply_spec is None else ">" + c.reply_spec]
            for a in c.args:
                words += [a.name, str(ARG_TYPES.index(a.type)), str(a.minimum), str(a.maximum),
                          str(0 if a.default is None else a.default), "|".join(a.values) or "-"]
            lines.append(" ".join(words))
        return "\n".join(lines)

    def board_blob(self) -> bytes:
        """board_text, deflated (board_deflate): what the firmware stores in flash and CATALOGUE
        reports."""
        return board_deflate(self.board_text().encode("ascii"))

    @classmethod
    def from_board(cls, blob: bytes) -> Catalogue:
        """From the bytes CATALOGUE reported (board_blob's form); anything malformed raises
        FirmwareError. The constants are this host's for the protocol version: a board with
        others has another hash, which the caller compares with INFO's."""
        try:
            inflate = zlib.decompressobj(-15, zdict=BOARD_DICTIONARY)
            text = inflate.decompress(blob, CATALOGUE_MAX_TEXT).decode("ascii")
            if inflate.unconsumed_tail:
                raise _bad(f"the compressed catalogue unpacks to more than {CATALOGUE_MAX_TEXT} bytes")
            if not inflate.eof or inflate.unused_data:
                raise _bad("the compressed catalogue is cut short or has bytes after its end")
        except (zlib.error, UnicodeDecodeError) as exc:
            raise _bad(f"the compressed catalogue does not unpack: {exc}") from None
        return cls(tuple(_board_command(line) for line in text.split("\n")), dict(CONSTANTS))


def board_deflate(data: bytes) -> bytes:
    """Raw deflate with BOARD_DICTIONARY: the form of a board's catalogue (from_board inflates it)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zdict=BOARD_DICTIONARY)
    return packer.compress(data) + packer.flush()


def _board_command(line: str) -> Command:
    """One command from its line of board_text."""
    words = line.split(" ")
    if len(words) < 4 or (len(words) - 4) % 6 or words[0] not in ("0", "1") or not words[1].isdigit() \
            or words[3][:1] not in ("-", ">") or (words[3][:1] == "-" and words[3] != "-"):
        raise _bad(f"catalogue line {line!r:.120}")
    required = int(words[1])
    args: list[Arg] = []
    for index in range(4, len(words), 6):
        name, kind, low, high, default, values = words[index:index + 6]
        if not kind.isdigit() or int(kind) >= len(ARG_TYPES):
            raise _bad(f"argument type {kind!r:.20} in {line!r:.120}")
        args.append(_arg(name, ARG_TYPES[int(kind)], _number(low), _number(high),
                         _number(default) if len(args) >= required else None,
                         () if values == "-" else tuple(values.split("|"))))
    spec = None if words[3] == "-" else words[3][1:]
    fields = None if spec is None else tuple(_spec_field(part) for part in spec.split("|") if spec)
    command = _command(words[2], tuple(args), fields, words[0] == "1")
    if command.min_args != required:
        raise _bad(f"{required} required arguments but defaults for {len(args) - required} in {line!r:.120}")
    return command


def _number(word: str) -> int:
    try:
        return int(word)
    except ValueError:
        raise _bad(f"number {word!r:.20}") from None


def _spec_field(part: str) -> Field:
    name, colon, suffix = part.partition(":")
    types = {code: kind for kind, code in FIELD_TYPES.items()}
    if (colon + suffix) not in types:
        raise _bad(f"reply field {part!r:.40}")
    return _field(name, types[colon + suffix])


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value or not value.replace("_", "a").isalnum() or not value.isascii():
        raise _bad(f"{what} {value!r:.40}")
    return value


def _int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not INT32[0] <= value <= INT32[1]:
        raise _bad(f"{what} {value!r:.40}")
    return value


def _arg(name: Any, kind: Any, low: Any, high: Any, default: Any, values: Any) -> Arg:
    if kind not in ARG_TYPES:
        raise _bad(f"argument type {kind!r:.40}")
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        raise _bad(f"argument values {values!r:.80}")
    if kind == "enum" and (not values or (low, high) != (0, len(values) - 1)):
        raise _bad(f"enum argument {name!r:.40}: range {low!r:.20}..{high!r:.20} for {len(values)} words")
    return Arg(_name(name, "argument name"), kind, _int(low, "minimum"), _int(high, "maximum"),
               None if default is None else _int(default, "default"), tuple(values))


def _field(name: Any, kind: Any) -> Field:
    if kind not in FIELD_TYPES:
        raise _bad(f"reply field type {kind!r:.40}")
    return Field(_name(name, "reply field"), kind)


def _command(name: Any, args: tuple[Arg, ...], reply: tuple[Field, ...] | None, system: Any) -> Command:
    if not isinstance(system, bool):
        raise _bad(f"system flag {system!r:.20}")
    names = [a.name for a in args]
    if len(set(names)) != len(names) or (reply is not None and len({f.name for f in reply}) != len(reply)):
        raise _bad(f"command {name!r:.40}: duplicate argument or reply field names")
    return Command(_name(name, "command name"), args, reply, system)
