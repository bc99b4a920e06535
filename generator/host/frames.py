"""Binary frames, the protocol's compact mode (docs/protocol.md, "Binary frames"): the one
encoder and parser of their bytes on the host side.

A frame is a header byte (the only byte with its top bit set), values, and a CRC-7 byte:
- request: 0x80 | arguments << 5 | op, then each argument as a number;
- reply:   0x80 | error << 6 | values, then each value: a number, or 0x40 + ASCII text + 0x00;
           or 0xA0 | v alone: one number v, 0..31, held in the header.
A number is zigzag-encoded, then written in 6-bit groups, most significant first, with 0x40 set
on every group but the last.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.codegen.framing import FRAME_ARGS, FRAME_OPS, echoed_fields
from generator.paths import DEFINITIONS

TEXT = 0x40         # a reply value's first byte when it is text (a number never starts with it)
# Refusals of what could not be read: JSON mode answers them with "cmd":"".
NUMBER = re.compile(r"[+-]?[0-9]{1,9}")  # the text protocol's integers
REFUSALS = frozenset({"overrun", "bad_frame", "bad_checksum", "line_too_long", "bad_request"})


def crc7_by_bits(data: Iterable[int], crc: int = 0) -> int:
    """CRC-7 (x^7 + x^3 + 1, MMC/SD cards' polynomial), most significant bit first."""
    for byte in data:
        for bit in range(7, -1, -1):
            top = ((crc >> 6) ^ (byte >> bit)) & 1
            crc = (crc << 1) & 0x7F
            if top:
                crc ^= 0x09
    return crc


_CRC7 = [crc7_by_bits([byte]) for byte in range(256)]  # the CRC of one byte from 0, for each byte


def crc7(data: Iterable[int], crc: int = 0) -> int:
    """CRC-7 of the bytes, a table lookup per byte (the same as bit by bit)."""
    for byte in data:
        crc = _CRC7[((crc << 1) ^ byte) & 0xFF]
    return crc


def encode_number(value: int) -> bytes:
    """A signed 32-bit integer as the frame's bytes for one number."""
    if not -2**31 <= value < 2**31:
        raise ValueError(f"{value} does not fit a 32-bit long")
    u = ((value << 1) ^ (value >> 31)) & 0xFFFFFFFF
    groups = [u & 0x3F]
    while u := u >> 6:
        groups.append(u & 0x3F)
    return bytes([TEXT | g for g in reversed(groups[1:])] + [groups[0]])


def decode_number(data: bytes, at: int) -> tuple[int, int]:
    """The number starting at data[at], and the position after it."""
    u = 0
    while True:
        byte = data[at]
        at += 1
        u = (u << 6) | (byte & 0x3F)
        if not byte & 0x40:
            break
    u &= 0xFFFFFFFF
    return (u >> 1) ^ -(u & 1), at


INLINE = 0x20       # a reply header holding its one value (0..31) in its low 5 bits


def values_following(header: int) -> int:
    """How many values follow a reply frame's header."""
    return 0 if header & INLINE else header & 0x1F


def seal(body: bytes) -> bytes:
    """A frame: its bytes and their CRC-7."""
    return body + bytes([crc7(body)])


@dataclass(frozen=True)
class FrameForm:
    """How one command travels in frames: its op, its arguments' specs (from its definition),
    its reply fields, and which of those echo an argument (left out of the reply frame)."""

    name: str
    op: int
    args: tuple[dict[str, Any], ...]
    reply: tuple[str, ...]
    echoes: frozenset[str]

    def encode(self, words: Sequence[str], analog: Sequence[int]) -> tuple[bytes, list[int | str]] | None:
        """The request frame for the words after the command name, and each argument as JSON mode
        echoes it; None when a word has no number form here (it then goes as a text line, whose
        reply says what is wrong with it)."""
        if len(words) > min(len(self.args), FRAME_ARGS):
            return None
        numbers: list[int] = []
        echoed: list[int | str] = []
        for spec, word in zip(self.args, words, strict=False):
            if spec["type"] == "enum":
                values = [v.lower() for v in spec["values"]]
                if word.lower() not in values:
                    return None
                numbers.append(values.index(word.lower()))
                echoed.append(values[numbers[-1]])
                continue
            text = word
            if spec["type"] != "integer" and word[:1] in ("A", "a") and word[1:].isdigit():
                index = int(word[1:])
                if index >= len(analog):
                    return None
                text = str(analog[index])
            if not NUMBER.fullmatch(text):
                return None  # what the firmware's text parser refuses: let it answer
            numbers.append(int(text))
            echoed.append(numbers[-1])
        header = 0x80 | len(numbers) << 5 | self.op
        return seal(bytes([header]) + b"".join(encode_number(n) for n in numbers)), echoed

    def reply_object(self, values: list[int | float | str], error: bool, given: Sequence[int | str]) -> dict[str, Any]:
        """The object JSON mode gives for this reply: echoed fields from the request's arguments
        (omitted optional ones from their defaults), the others from the frame's values."""
        if error:
            code = str(values[0])
            reply: dict[str, Any] = {"ok": 0, "cmd": "" if code in REFUSALS else self.name, "error": code}
            if len(values) > 1:
                reply["arg"] = str(values[1])
            return reply
        args = {spec["name"]: (given[i] if i < len(given) else self.default(spec)) for i, spec in enumerate(self.args)}
        fields: dict[str, Any] = {"ok": 1, "cmd": self.name}
        rest = iter(values)
        for field in self.reply:
            fields[field] = args[field] if field in self.echoes else next(rest)
        return fields

    @staticmethod
    def default(spec: dict[str, Any]) -> int | str:
        """An omitted optional argument's value as JSON mode echoes it."""
        value = spec.get("default", 0)
        return value.lower() if isinstance(value, str) else value


def text_value(text: str) -> int | float | str:
    """A text value as JSON mode gives it: an integer, a decimal, or a word."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def value_end(data: bytes, at: int) -> int | None:
    """Where the reply value starting at data[at] ends (a number: after its last group; text:
    after its 0 byte), or None when `data` does not hold all of it."""
    if data[at] == TEXT:
        end = data.find(0, at + 1)
        return None if end < 0 else end + 1
    while at < len(data) and data[at] & 0x40:
        at += 1
    return at + 1 if at < len(data) else None


def reply_length(data: bytes) -> int | None:
    """How many bytes of `data` the reply frame at its start takes: its header, its values (as
    many as the header says) and its CRC byte. A byte with its top bit set where a value or the
    CRC should be ends it early, before that byte (parse_reply then finds it damaged). None while
    `data` does not hold it all."""
    wanted, values, at = values_following(data[0]), 0, 1
    while at < len(data):
        if data[at] & 0x80:
            return at
        if values == wanted:
            return at + 1
        end = value_end(data, at)
        if end is None:
            return None
        values, at = values + 1, end
    return None


def parse_reply(frame: bytes) -> tuple[bool, list[int | float | str]] | None:
    """(error, values) of a whole reply frame, or None when it is damaged: a wrong CRC, a value
    count that does not match, a byte with its top bit set inside it."""
    if len(frame) < 2 or any(b & 0x80 for b in frame[1:]) or crc7(frame[:-1]) != frame[-1]:
        return None
    if frame[0] & INLINE:
        return (bool(frame[0] & 0x40), [frame[0] & 0x1F]) if len(frame) == 2 else None
    values: list[int | float | str] = []  # a text value may be a number with a fraction (text_value)
    at = 1
    while at < len(frame) - 1:
        end = value_end(frame, at)
        if end is None:
            return None
        value = frame[at:end]
        values.append(text_value(value[1:-1].decode("ascii")) if value[0] == TEXT else decode_number(value, 0)[0])
        at = end
    if at != len(frame) - 1 or len(values) != values_following(frame[0]):
        return None
    return bool(frame[0] & 0x40), values


def frame_forms(capabilities: Sequence[str], definitions: Path = DEFINITIONS) -> dict[str, FrameForm]:
    """UPPERCASE name -> FrameForm for the commands a firmware with these capabilities (INFO's
    list, in its order: a command's op is its position) can take in frames: the first 32, those
    whose definition this checkout has and that declare their `reply`."""
    forms = {}
    for op, name in enumerate(capabilities[:FRAME_OPS]):
        path = definitions / "commands" / f"{name.lower()}.json"
        if not path.is_file():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data.get("reply"), list):
            reply = tuple(data["reply"])
            forms[name.upper()] = FrameForm(name.upper(), op, tuple(data.get("args", [])), reply,
                                            frozenset(reply[i] for i in echoed_fields(data)))
    return forms
