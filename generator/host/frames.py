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

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from generator.errors import FirmwareError
from generator.protocol.catalogue import FRAME_ARGS, REFUSALS, Catalogue, Command
from generator.protocol.checks import crc7

TEXT = 0x40         # a reply value's first byte when it is text (a number never starts with it)
NUMBER = re.compile(r"[+-]?[0-9]{1,9}")  # the text protocol's integers
TENTHS = re.compile(r"-?[0-9]+\.[0-9]")  # a `tenths` field's text


def encode_number(value: int) -> bytes:
    """A signed 32-bit integer as the frame's bytes for one number."""
    if not -2**31 <= value < 2**31:
        raise ValueError(f"{value} does not fit a 32-bit long")
    u = ((value << 1) ^ (value >> 31)) & 0xFFFFFFFF
    groups = [u & 0x3F]
    while u := u >> 6:
        groups.append(u & 0x3F)
    return bytes([TEXT | g for g in reversed(groups[1:])] + [groups[0]])


def decode_number(data: bytes, at: int) -> tuple[int, int] | None:
    """The number starting at data[at], and the position after it; None when it does not fit
    32 bits (the firmware never sends one)."""
    u = 0
    while True:
        byte = data[at]
        at += 1
        u = (u << 6) | (byte & 0x3F)
        if u >> 32:
            return None
        if not byte & 0x40:
            break
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
    """How one command of the board's catalogue travels in frames: its op, its arguments' specs,
    its reply fields and which of those echo an argument (left out of the reply frame)."""

    op: int
    command: Command

    @property
    def name(self) -> str:
        return self.command.name

    def encode(self, words: Sequence[str], analog: Sequence[int]) -> tuple[bytes, list[int | str]] | None:
        """The request frame for the words after the command name, and each argument as JSON mode
        echoes it; None when a word has no number form here (it then goes as a text line, whose
        reply says what is wrong with it)."""
        if len(words) > min(len(self.command.args), FRAME_ARGS):
            return None
        numbers: list[int] = []
        echoed: list[int | str] = []
        for spec, word in zip(self.command.args, words, strict=False):
            if spec.type == "enum":
                if word.lower() not in spec.values:
                    return None
                numbers.append(spec.values.index(word.lower()))
                echoed.append(word.lower())
                continue
            text = word
            if spec.type != "integer" and word[:1] in ("A", "a") and word[1:].isdigit():
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
        (omitted optional ones from their defaults), the others from the frame's values. A reply
        whose values do not match the catalogue's fields (count or type) raises FirmwareError."""
        if error:
            if not 1 <= len(values) <= 2 or not all(isinstance(v, str) for v in values):
                raise self.mismatch(values, "an error frame holds its code and maybe an argument's name, as text")
            code = str(values[0])
            reply: dict[str, Any] = {"ok": 0, "cmd": "" if code in REFUSALS else self.name, "error": code}
            if len(values) > 1:
                reply["arg"] = str(values[1])
            return reply
        fields = self.command.reply or ()
        if len(values) != self.command.values:
            raise self.mismatch(values, f"{self.command.values} value(s) for {', '.join(f.name for f in fields)}")
        args = {spec.name: spec.echo(given[i] if i < len(given) else spec.default or 0)
                for i, spec in enumerate(self.command.args)}
        out: dict[str, Any] = {"ok": 1, "cmd": self.name}
        rest = iter(values)
        for index, field in enumerate(fields):
            if index in self.command.echoes:
                out[field.name] = args[field.name]
                continue
            value = next(rest)
            if field.type == "int" and isinstance(value, int):
                out[field.name] = value
            elif field.type == "text" and isinstance(value, str):
                out[field.name] = value
            elif field.type == "tenths" and isinstance(value, str) and TENTHS.fullmatch(value):
                out[field.name] = float(value)
            else:
                raise self.mismatch(values, f"field '{field.name}' is {field.type}, got {value!r:.40}")
        return out

    def mismatch(self, values: list[int | float | str], why: str) -> FirmwareError:
        return FirmwareError(f"a {self.name} reply frame does not match the board's catalogue: {why} "
                             f"(values {values!r:.120})", "the board and this host disagree: read INFO again")


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
        if frame[at] == TEXT:
            values.append(frame[at + 1:end - 1].decode("ascii"))
        else:
            number = decode_number(frame, at)
            if number is None:
                return None
            values.append(number[0])
        at = end
    if at != len(frame) - 1 or len(values) != values_following(frame[0]):
        return None
    return bool(frame[0] & 0x40), values


def frame_forms(catalogue: Catalogue) -> dict[str, FrameForm]:
    """UPPERCASE name -> FrameForm for the commands of a board's catalogue that travel in frames:
    the first 32 commands that declare a reply (catalogue.framed)."""
    return {name: FrameForm(op, command) for name, (op, command) in catalogue.framed().items()}
