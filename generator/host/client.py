"""Host side of the protocol: open a port, send requests (one at a time, or pipelined within the
board's window), as text lines with ids and checksums or, after info(compact=True), as binary
frames built from the catalogue the board reports, and give back every reply as the object JSON
mode gives. Whatever arrives, a reply that cannot be read raises FirmwareError. docs/protocol.md."""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import serial

from generator.boards import board_facts
from generator.errors import FirmwareError
from generator.host.frames import FrameForm, frame_forms, parse_reply, reply_length
from generator.identity import FirmwareIdentity
from generator.protocol.catalogue import REFUSALS, Catalogue
from generator.protocol.checks import crc8

# drain() stops after this many stale bytes: a board pushing events faster than they are read
# never keeps a request from being sent.
DRAIN_LIMIT = 1 << 16
CATALOGUE_MAX = 32768  # bytes of a compressed catalogue: CATALOGUE's offset is at most 32767


def frame(line: str, request_id: int | None = None) -> bytes:
    """One request line with an optional "@<id> " prefix and its "*hh" checksum (CRC-8), ended by \\n."""
    body = (f"@{request_id} {line}" if request_id is not None else line).encode("ascii", "replace")
    return body + b"*%02X\n" % crc8(body)


def unframe(raw: bytes) -> tuple[bytes, bool | None]:
    """A reply line without its "*hh" suffix, and whether that checksum held (None: it had none)."""
    line = raw.rstrip(b"\r\n")
    star = line.rfind(b"*")
    if star < 0 or len(line) - star != 3:
        return line, None
    digits = line[star + 1:]
    if not all(chr(b) in "0123456789abcdefABCDEF" for b in digits):
        return line, False
    given = int(digits, 16)
    return line[:star], given == crc8(line[:star])


@dataclass
class Pending:
    """One request on its way: what is sent, and how its reply is read back."""

    line: str
    data: bytes
    form: FrameForm | None = None          # sent as a frame: its command's form
    echoed: Sequence[int | str] = ()       # a frame's arguments, as JSON mode echoes them
    request_id: int | None = None          # a text line sent with "@<id>"


class BoardClient:
    """A board on a serial port, a pty, or any pyserial URL such as socket://HOST:PORT (the
    wifi_tcp transport: with a key, from `key` or FIRMWARE_WIFI_KEY, the connection begins with
    the Noise handshake and everything after it is sealed; noise.NoiseLink). Use as a context
    manager."""

    def __init__(self, port: str, baud: int, timeout: float = 2.0, key: str | None = None) -> None:
        self.port = port
        self.timeout = timeout
        self.window = 1  # bytes of requests that may be in flight, from INFO (1: one at a time)
        self.next_id = 1
        self.forms: dict[str, FrameForm] = {}  # commands sent as binary frames (after info(compact=True))
        self.catalogue: Catalogue | None = None  # the board's, read by info(compact=True)
        self.checksums = False  # CHECKSUM 1 is on: every text request goes with "@<id>" and "*hh"
        self.analog: tuple[int, ...] = ()  # the board's A0, A1, ... pin numbers, for frames
        self.events: list[dict[str, Any]] = []  # pushed event lines (GPIO_WATCH), oldest first
        self.damaged_events = 0  # event lines whose checksum failed: dropped, never acted on
        self.sent = 0  # bytes written, and read, since opening: what the benchmark counts
        self.received = 0
        self.buffer = b""  # bytes read from the port and not parsed yet
        self.link: Any
        if port.startswith("socket://"):
            from generator.host.noise import NoiseLink, key_from  # noqa: PLC0415 - noise only for WiFi

            wifi_key = key_from(key)
            if wifi_key:
                self.link = NoiseLink(port, wifi_key, timeout)
                return
        elif key:
            raise FirmwareError(f"{port}: a key is for a board on WiFi (socket://HOST:PORT), not a serial port")
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

    def prepare(self, line: str, request_id: int | None = None) -> Pending:
        """The request as it goes on the wire: a binary frame when compact mode is on for its
        command and every argument has a number form; else the text line, with "@<id>" and
        "*hh" when `request_id` is given."""
        words = line.split()
        form = self.forms.get(words[0].upper()) if words else None
        encoded = form.encode(words[1:], self.analog) if form else None
        if form and encoded:
            return Pending(line, encoded[0], form, encoded[1])
        if request_id is None:
            return Pending(line, line.encode("ascii", "replace") + b"\n")
        return Pending(line, frame(line, request_id), request_id=request_id)

    def write(self, data: bytes) -> None:
        """Write bytes to the board, counting them."""
        self.link.write(data)
        self.sent += len(data)

    def request(self, line: str, timeout: float | None = None) -> dict[str, Any]:
        """Send one request and return its reply, as JSON mode gives it. After a RESET the board
        restarts with frames off, as after FRAMES 0: requests go as text until info(compact=True)
        again."""
        pending = self.prepare(line, self.take_id() if self.checksums else None)
        self.drain()
        self.write(pending.data)
        self.link.flush()
        reply = self.read_reply(pending, timeout if timeout is not None else self.timeout)
        if pending.request_id is not None and reply.pop("id", pending.request_id) != pending.request_id:
            raise FirmwareError(f"{self.port} answered '{line}' with another request's reply: "
                                f"{json.dumps(reply)[:200]}",
                                "a reply was lost or a request damaged: send PING until it answers, then repeat it")
        if reply.get("cmd") == "RESET" and reply.get("ok") == 1:
            self.forms = {}
            self.checksums = False
        elif reply.get("cmd") == "FRAMES" and reply.get("on") == 0:
            self.forms = {}  # the board now takes text only
        return reply

    def take_id(self) -> int:
        """The next request id, 1 to 999999999 and round again."""
        request_id = self.next_id
        self.next_id = self.next_id % 999_999_999 + 1
        return request_id

    def drain(self) -> None:
        """Drop stale bytes waiting on the port (late replies), keeping the events among them.
        Read until nothing waits: pyserial's socket:// (the wifi_tcp transport) says 1 byte
        waits whenever any does."""
        data, self.buffer = self.buffer, b""
        while (waiting := self.link.in_waiting) and len(data) < DRAIN_LIMIT:
            data += self.link.read(waiting)
            self.received += waiting
        tail = data[data.rfind(b"\n") + 1:]
        if tail and not tail[0] & 0x80:  # a text line on its way: take it whole, never half of it
            self.link.timeout = self.timeout
            data += self.link.read_until(b"\n")
        for raw in data.splitlines(keepends=True):
            self.take_event(raw)

    def take_event(self, raw: bytes) -> bool:
        """Whether the line is a pushed event rather than a reply; a good one joins `events`."""
        if not raw.startswith(b'{"event":'):
            return False
        line, good = unframe(raw)
        event = None
        if good:
            try:
                event = json.loads(line)
            except (ValueError, RecursionError):
                event = None
        if isinstance(event, dict):
            self.events.append(event)
        else:
            self.damaged_events += 1
        return True

    def wait_event(self, timeout: float | None = None) -> dict[str, Any]:
        """The oldest pushed event, reading the port until one arrives within `timeout`."""
        wait = timeout if timeout is not None else self.timeout
        while not self.events:
            self.take_event(self.read_line("(waiting for an event)", wait))
        return self.events.pop(0)

    def fill(self, request: str, deadline: float) -> None:
        """Read what has arrived (at least one byte) into `buffer`, or raise at the deadline."""
        left = deadline - time.monotonic()
        if left > 0:
            self.link.timeout = left
            chunk = self.link.read(max(1, self.link.in_waiting))
            if chunk:
                self.buffer += chunk
                self.received += len(chunk)
                return
        raise FirmwareError(f"no reply from {self.port} to '{request}' within the time allowed",
                            "check the port, the baud rate and that the board runs this firmware")

    def read_line(self, request: str, timeout: float) -> bytes:
        """Read up to a newline within `timeout`."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            self.fill(request, deadline)
        raw, _, self.buffer = self.buffer.partition(b"\n")
        return raw + b"\n"

    def read_frame(self, request: str, deadline: float) -> bytes:
        """Read one reply frame whole (frames.reply_length says where it ends)."""
        while (length := reply_length(self.buffer)) is None:
            self.fill(request, deadline)
        raw, self.buffer = self.buffer[:length], self.buffer[length:]
        return raw

    def read_reply(self, pending: Pending | str, timeout: float) -> dict[str, Any]:
        """The reply to one request (what prepare() gave, or just its line when it was written as
        text by hand), events read on the way set aside: a frame or a JSON line (a text request's
        reply, or a refusal of what could not be read)."""
        if isinstance(pending, str):
            pending = Pending(pending, b"")
        deadline = time.monotonic() + timeout
        while True:
            if not self.buffer:
                self.fill(pending.line, deadline)
            if self.buffer[0] & 0x80:
                return self.parse_frame(pending, self.read_frame(pending.line, deadline))
            raw = self.read_line(pending.line, max(0.0, deadline - time.monotonic()))
            if not self.take_event(raw):
                return self.parse(pending, raw)

    def parse_frame(self, pending: Pending, raw: bytes) -> dict[str, Any]:
        """A reply frame as the object JSON mode gives; a damaged one raises."""
        parsed = parse_reply(raw)
        if parsed is None or (pending.form is None and not parsed[0]):
            raise FirmwareError(f"{self.port} answered '{pending.line}' with a damaged frame: {raw[:40].hex(' ')}",
                                "check the cable and the baud rate; send PING until it answers")
        error, values = parsed
        if pending.form is None:  # a refusal of bytes that looked like a frame, after a text request
            return {"ok": 0, "cmd": "", "error": str(values[0])}
        return pending.form.reply_object(values, error, pending.echoed)

    def parse(self, pending: Pending, raw: bytes) -> dict[str, Any]:
        """One reply line as a JSON object; for a checksummed request its "*hh" must hold (a
        refusal without one is accepted: the board refuses lines it could not read before
        checking them)."""
        line, good = unframe(raw)
        text = line.decode("utf-8", "replace").strip()
        reply: Any = None
        try:
            reply = json.loads(text)
        except (ValueError, RecursionError):
            pass
        if not isinstance(reply, dict):
            raise FirmwareError(f"{self.port} answered '{pending.line}' with something that is not a JSON "
                                f"object: {text[:120]!r}", "is this board running generated firmware?")
        checksummed = pending.request_id is not None
        if good is False or (checksummed and good is None and reply.get("ok") != 0):
            raise FirmwareError(f"{self.port} answered '{pending.line}' with a damaged line: {raw[:120]!r}",
                                "check the cable and the baud rate")
        return reply

    def pipeline(self, lines: Sequence[str], timeout: float | None = None) -> list[dict[str, Any]]:
        """Send every request (a frame, or a text line with an id and a checksum), keeping at
        most `window` bytes of unanswered requests in flight (always one), and return the replies
        in request order. A text reply that does not match its request's id, or a refusal of
        something the board could not read (`overrun`, ...), raises: repeat what is not confirmed."""
        wait = timeout if timeout is not None else self.timeout
        self.require_checksums()
        pending = [self.prepare(line, self.take_id()) for line in lines]
        self.drain()
        replies: list[dict[str, Any]] = []
        sent = 0
        in_flight = 0
        while len(replies) < len(pending):
            batch = b""
            # Refill once half the window is free: fewer, larger writes, and the board always
            # has the other half queued.
            if in_flight <= self.window // 2:
                while sent < len(pending) and (in_flight == 0 or in_flight + len(pending[sent].data) <= self.window):
                    batch += pending[sent].data
                    in_flight += len(pending[sent].data)
                    sent += 1
            if batch:
                self.write(batch)
            item = pending[len(replies)]
            reply = self.read_reply(item, wait)
            damaged = reply.get("ok") == 0 and reply.get("cmd") == "" and reply.get("error") in REFUSALS
            if damaged or (item.form is None and reply.get("id") != item.request_id):
                raise FirmwareError(f"{self.port} answered request {len(replies) + 1} ('{item.line}') with "
                                    f"{json.dumps(reply)}", "a reply was lost or a request damaged: "
                                    "send PING until it answers, then repeat what is not confirmed")
            replies.append(reply)
            in_flight -= len(item.data)
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

    def require_checksums(self) -> None:
        """CHECKSUM 1: from now on the board refuses, unexecuted, any text line without a valid
        "*hh" (so a damaged "*" cannot leave a runnable line). Boards older than CHECKSUM
        (INFO's checksum is not crc8) answer unknown_command: their lines stay as they were."""
        if self.checksums:
            return
        self.checksums = True
        reply = self.request("CHECKSUM 1")
        if reply.get("ok") == 1 and reply.get("on") == 1:
            return
        self.checksums = False
        if reply.get("error") != "unknown_command":
            raise FirmwareError(f"{self.port} did not turn CHECKSUM 1 on: {json.dumps(reply)[:200]}")

    def read_catalogue(self) -> Catalogue:
        """The board's own catalogue: CATALOGUE's chunks from offset 0 to its size, unpacked."""
        data = b""
        size = CATALOGUE_MAX
        while len(data) < size:
            reply = self.request(f"CATALOGUE {len(data)}")
            chunk = reply.get("data")
            if reply.get("ok") != 1 or reply.get("offset") != len(data) or not isinstance(reply.get("size"), int) \
                    or not isinstance(chunk, str) or not 0 < reply["size"] <= CATALOGUE_MAX:
                raise FirmwareError(f"{self.port} answered CATALOGUE {len(data)} with {json.dumps(reply)[:200]}",
                                    "is this board running generated firmware? send PING, then try again")
            size = reply["size"]
            try:
                piece = bytes.fromhex(chunk)
            except ValueError:
                piece = b""
            if not piece or len(data) + len(piece) > size:
                raise FirmwareError(f"{self.port} answered CATALOGUE {len(data)} with a damaged chunk: {chunk[:80]!r}",
                                    "check the cable and the baud rate; send PING, then try again")
            data += piece
        return Catalogue.from_board(data)

    def board_catalogue(self, reported: Any, known: Catalogue | None) -> Catalogue:
        """The catalogue to speak frames with: `known` when the board reports its hash, else the
        board's own (read, and checked against the hash INFO reported). A board whose catalogue
        cannot be had, or disagrees with `known`, is refused with both hashes."""
        if known is not None and reported == known.hash:
            return known
        if not isinstance(reported, str):
            mine = f"; this host has catalogue {known.hash}" if known else ""
            raise FirmwareError(f"{self.port} reports no catalogue hash (firmware older than the catalogue){mine}: "
                                "binary frames refused", "reflash the board from this checkout; text requests work "
                                "(info() without compact)")
        if known is not None:
            raise FirmwareError(f"{self.port} runs catalogue {reported}, but this host was given catalogue "
                                f"{known.hash}: binary frames refused",
                                "reflash the board from this checkout, or call info(compact=True) without a catalogue "
                                "to speak the board's own")
        catalogue = self.read_catalogue()
        if catalogue.hash != reported:
            raise FirmwareError(f"{self.port} reports catalogue {reported} in INFO, but the catalogue it sent hashes "
                                f"to {catalogue.hash}: binary frames refused",
                                "check the cable; a firmware from another generator version may describe itself "
                                "differently: reflash it from this checkout")
        return catalogue

    def info(self, compact: bool = False, catalogue: Catalogue | None = None) -> FirmwareIdentity:
        """The board's identity; also takes its window for pipeline() (1 if it states none) and
        turns the board's frames on (`compact`) or off. With frames on, the commands of the
        board's catalogue go as binary frames: request() and pipeline() still return JSON mode's
        objects. The catalogue is the board's own (CATALOGUE, checked against INFO's hash); a
        `catalogue` given (one this host built, say) is used when INFO reports its hash and refused
        otherwise. A board that restarts turns frames off: call info() again after a reset."""
        reply = self.request("INFO")
        if reply.get("ok") != 1:
            raise FirmwareError(f"INFO failed: {json.dumps(reply)}")
        window = reply.get("window")
        self.window = window if isinstance(window, int) and window > 0 else 1
        identity = FirmwareIdentity.from_reply(reply)
        self.forms = {}
        self.catalogue = None
        takes_frames = reply.get("frames") == "crc7"
        if compact and takes_frames:
            self.catalogue = self.board_catalogue(reply.get("catalogue"), catalogue)
        if takes_frames and self.request(f"FRAMES {int(compact)}").get("on") != int(compact):
            raise FirmwareError(f"{self.port} did not turn frames {'on' if compact else 'off'}")
        if compact and self.catalogue is not None and takes_frames:
            try:
                self.analog = board_facts(identity.board).analog_pins
            except FirmwareError:
                self.analog = ()  # a board this checkout does not know: A<n> goes as text
            self.forms = frame_forms(self.catalogue)
        return identity
