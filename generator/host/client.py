"""Host side of the line protocol: open a port, send requests (one at a time, or pipelined
within the board's window with ids and checksums), parse the JSON replies. docs/protocol.md."""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from functools import reduce
from pathlib import Path
from typing import Any

import serial

from generator.errors import FirmwareError
from generator.identity import FirmwareIdentity
from generator.paths import DEFINITIONS


def xor_sum(data: bytes) -> int:
    """The protocol's line checksum: the XOR of the bytes."""
    return reduce(lambda a, b: a ^ b, data, 0)


def frame(line: str, request_id: int | None = None) -> bytes:
    """One request line with an optional "@<id> " prefix and its "*hh" checksum, ended by \\n."""
    body = (f"@{request_id} {line}" if request_id is not None else line).encode("ascii", "replace")
    return body + b"*%02X\n" % xor_sum(body)


def unframe(raw: bytes) -> tuple[bytes, bool | None]:
    """A reply line without its "*hh" suffix, and whether that checksum held (None: it had none)."""
    line = raw.rstrip(b"\r\n")
    star = line.rfind(b"*")
    if star < 0 or len(line) - star != 3:
        return line, None
    try:
        given = int(line[star + 1:], 16)
    except ValueError:
        return line, False
    return line[:star], given == xor_sum(line[:star])


def reply_fields(definitions: Path = DEFINITIONS) -> dict[str, list[str]]:
    """UPPERCASE command name -> the names of its compact reply's values, for every command of
    the definitions folder that declares `reply` (INFO does not: it always answers in JSON)."""
    fields = {}
    for path in sorted((definitions / "commands").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data.get("reply"), list):
            fields[str(data["id"]).upper()] = [str(name) for name in data["reply"]]
    return fields


def compact_value(word: str) -> int | float | str:
    """A compact reply's value as JSON mode gives it: an integer, a decimal, or a word."""
    for kind in (int, float):
        try:
            return kind(word)
        except ValueError:
            pass
    return word


def parse_compact(text: str, command: str, fields: list[str]) -> dict[str, Any] | None:
    """`[@<id> ]=v1 v2 ...` or `[@<id> ]!error [arg]` as the JSON reply it stands for, or None."""
    reply: dict[str, Any] = {}
    if text.startswith("@"):
        head, _, text = text.partition(" ")
        if not head[1:].isdigit():
            return None
        reply["id"] = int(head[1:])
    words = text[1:].split()
    if text.startswith("=") and len(words) == len(fields):
        return {"ok": 1, **reply, "cmd": command, **dict(zip(fields, map(compact_value, words), strict=True))}
    if text.startswith("!") and 1 <= len(words) <= 2:
        return {"ok": 0, **reply, "cmd": command, "error": words[0], **({"arg": words[1]} if len(words) > 1 else {})}
    return None


class BoardClient:
    """A board on a serial port, a pty, or any pyserial URL such as socket://HOST:PORT (the
    wifi_tcp transport). Use as a context manager."""

    def __init__(self, port: str, baud: int, timeout: float = 2.0) -> None:
        self.port = port
        self.timeout = timeout
        self.window = 1  # bytes of requests that may be in flight, from INFO (1: one at a time)
        self.next_id = 1
        self.compact: dict[str, list[str]] = {}  # commands asked for compact replies (after info())
        self.events: list[dict[str, Any]] = []  # pushed event lines (GPIO_WATCH), oldest first
        self.damaged_events = 0  # event lines whose checksum failed: dropped, never acted on
        try:
            self.link = serial.serial_for_url(port, baud, timeout=timeout, exclusive=True)
        except serial.SerialException as exc:
            text = str(exc)
            if "lock" in text.lower() or "busy" in text.lower() or "Errno 16" in text:
                raise FirmwareError(f"{port} is busy: another program holds it",
                                    "close the serial monitor (or stop Klipper) and try again") from exc
            raise FirmwareError(f"cannot open {port}: {text}") from exc

    def __enter__(self) -> BoardClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.link.close()

    def wire_form(self, line: str) -> tuple[str, list[str] | None]:
        """The line as sent (its command prefixed with '!' when compact replies are on for it)
        and the compact reply's fields (None: a JSON reply)."""
        words = line.split(maxsplit=1)
        fields = self.compact.get(words[0].upper()) if words else None
        return ("!" + line if fields is not None else line), fields

    def request(self, line: str, timeout: float | None = None) -> dict[str, Any]:
        """Send one request line and return its reply, as JSON mode gives it."""
        sent, fields = self.wire_form(line)
        self.drain()
        self.link.write(sent.encode("ascii", "replace") + b"\n")
        self.link.flush()
        raw = self.read_line(line, timeout if timeout is not None else self.timeout)
        while self.take_event(raw):
            raw = self.read_line(line, timeout if timeout is not None else self.timeout)
        return self.parse(line, raw, fields=fields)

    def drain(self) -> None:
        """Drop stale bytes waiting on the port (late replies), keeping the events among them."""
        waiting = self.link.in_waiting
        data = self.link.read(waiting) if waiting else b""
        if data and not data.endswith(b"\n"):  # a line on its way: take it whole, never half of it
            self.link.timeout = self.timeout
            data += self.link.read_until(b"\n")
        for raw in data.splitlines(keepends=True):
            self.take_event(raw)

    def take_event(self, raw: bytes) -> bool:
        """Whether the line is a pushed event rather than a reply; a good one joins `events`."""
        if not raw.startswith(b'{"event":'):
            return False
        line, good = unframe(raw)
        if good:
            self.events.append(json.loads(line))
        else:
            self.damaged_events += 1
        return True

    def wait_event(self, timeout: float | None = None) -> dict[str, Any]:
        """The oldest pushed event, reading the port until one arrives within `timeout`."""
        wait = timeout if timeout is not None else self.timeout
        while not self.events:
            self.take_event(self.read_line("(waiting for an event)", wait))
        return self.events.pop(0)

    def read_line(self, request: str, timeout: float) -> bytes:
        """Read up to a newline within `timeout`."""
        deadline = time.monotonic() + timeout
        raw = b""
        while not raw.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.link.timeout = left
            raw += self.link.read_until(b"\n")
        if not raw:
            raise FirmwareError(f"no reply from {self.port} to '{request}' within {timeout:g} s",
                                "check the port, the baud rate and that the board runs this firmware")
        return raw

    def parse(self, request: str, raw: bytes, checksummed: bool = False,
              fields: list[str] | None = None) -> dict[str, Any]:
        """One reply line as a JSON object (a compact one, when `fields` are given, turned into
        the same object); with `checksummed`, its "*hh" must hold (a refusal without one is
        accepted: the board refuses lines it could not read before checking them)."""
        line, good = unframe(raw)
        text = line.decode("utf-8", "replace").strip()
        reply: Any = None
        if fields is not None and not text.startswith("{"):
            reply = parse_compact(text, request.split()[0].upper(), fields)
        else:
            try:
                reply = json.loads(text)
            except ValueError:
                pass
        if not isinstance(reply, dict):
            raise FirmwareError(f"{self.port} answered '{request}' with something that is not a JSON "
                                f"object: {text[:120]!r}", "is this board running generated firmware?")
        if good is False or (checksummed and good is None and reply.get("ok") != 0):
            raise FirmwareError(f"{self.port} answered '{request}' with a damaged line: {raw[:120]!r}",
                                "check the cable and the baud rate")
        return reply

    def read_reply(self, request: str, timeout: float) -> dict[str, Any]:
        """Read up to a newline within `timeout`; the line must be one JSON object."""
        return self.parse(request, self.read_line(request, timeout))

    def pipeline(self, lines: Sequence[str], timeout: float | None = None) -> list[dict[str, Any]]:
        """Send every request with an id and a checksum, keeping at most `window` bytes of
        unanswered requests in flight (always one), and return the replies in request order.
        A reply that does not match its request's id, or a refusal of a damaged line, raises."""
        wait = timeout if timeout is not None else self.timeout
        framed = []
        for line in lines:
            sent, fields = self.wire_form(line)
            framed.append((self.next_id, line, fields, frame(sent, self.next_id)))
            self.next_id = self.next_id % 999_999_999 + 1
        self.drain()
        self.link.timeout = wait
        replies: list[dict[str, Any]] = []
        received = b""  # read in whatever pieces arrive: one read per reply line is too slow at 1 Mbaud
        sent = 0
        in_flight = 0
        while len(replies) < len(framed):
            batch = b""
            while sent < len(framed) and (in_flight == 0 or in_flight + len(framed[sent][3]) <= self.window):
                batch += framed[sent][3]
                in_flight += len(framed[sent][3])
                sent += 1
            if batch:
                self.link.write(batch)
            request_id, line, fields, data = framed[len(replies)]
            while b"\n" not in received:
                chunk = self.link.read(max(1, self.link.in_waiting))
                if not chunk:
                    raise FirmwareError(f"no reply from {self.port} to '{line}' within {wait:g} s",
                                        "check the port, the baud rate and that the board runs this firmware")
                received += chunk
            raw, _, received = received.partition(b"\n")
            if self.take_event(raw + b"\n"):
                continue
            reply = self.parse(line, raw + b"\n", checksummed=True, fields=fields)
            if reply.get("id") != request_id:
                raise FirmwareError(f"{self.port} answered request {request_id} ('{line}') with "
                                    f"{json.dumps(reply)}", "a reply was lost or a request damaged: "
                                    "send PING until it answers, then repeat what is not confirmed")
            replies.append(reply)
            in_flight -= len(data)
        return replies

    def wait_ready(self, within: float = 5.0) -> None:
        """PING until the board answers: boards such as the Uno reset when the port opens."""
        deadline = time.monotonic() + within
        while True:
            try:
                if self.request("PING", timeout=0.5).get("ok") == 1:
                    return
            except FirmwareError:
                pass
            if time.monotonic() >= deadline:
                raise FirmwareError(f"{self.port} did not answer PING within {within:g} s",
                                    "check the port, the baud rate and that the board runs this firmware")

    def info(self, compact: bool = False) -> FirmwareIdentity:
        """The board's identity; also takes its window for pipeline() (1 if it states none) and,
        with `compact`, turns compact replies on for the commands whose fields this checkout knows
        (when the board offers them): request() and pipeline() still return JSON mode's objects."""
        reply = self.request("INFO")
        if reply.get("ok") != 1:
            raise FirmwareError(f"INFO failed: {json.dumps(reply)}")
        window = reply.get("window")
        self.window = window if isinstance(window, int) and window > 0 else 1
        identity = FirmwareIdentity.from_reply(reply)
        self.compact = {}
        if compact and reply.get("compact") == 1:
            known = reply_fields()
            names = [c.upper() for c in identity.capabilities] + ["PING"]
            self.compact = {name: known[name] for name in names if name in known}
        return identity
