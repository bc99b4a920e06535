"""Whatever bytes arrive, the host's parsers and BoardClient end in a reply or a FirmwareError,
never another exception (issue 18 case 3: 599 in 100,000 random inputs raised StopIteration or
IndexError). The board side is a scripted link: it answers each write with bytes the test chose,
as a real port would deliver them (in pieces, with time-outs when nothing is left)."""
from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.errors import FirmwareError
from generator.host.client import BoardClient, frame, unframe
from generator.host.frames import frame_forms, parse_reply, reply_length, seal
from generator.protocol.catalogue import BOARD_DICTIONARY, PROTOCOL, Catalogue, board_deflate
from testsupport.helpers import uno_catalogue

DICTIONARY_SHA256 = "b402561b00f2d2b77c3a0deaed02ab08e7e56c3fb7f730f22fddd06708441bee"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class ScriptedLink:
    """What BoardClient uses of a pyserial port: every write is answered by the next script entry
    (bytes the board 'sends'); reads take what is there, or nothing once the script is spent."""

    def __init__(self, script: list[bytes]) -> None:
        self.script = list(script)
        self.waiting = b""
        self.timeout: float | None = 0.0

    @property
    def in_waiting(self) -> int:
        return len(self.waiting)

    def write(self, data: bytes) -> int:
        if self.script:
            self.waiting += self.script.pop(0)
        return len(data)

    def flush(self) -> None:
        pass

    def read(self, size: int = 1) -> bytes:
        data, self.waiting = self.waiting[:size], self.waiting[size:]
        return data

    def read_until(self, end: bytes = b"\n") -> bytes:
        at = self.waiting.find(end)
        size = len(self.waiting) if at < 0 else at + len(end)
        return self.read(size)

    def close(self) -> None:
        pass


def client_on(script: list[bytes]) -> BoardClient:
    client = BoardClient("loop://", 115200, timeout=0.01)
    client.link.close()
    client.link = ScriptedLink(script)  # type: ignore[assignment]
    return client


def info_line(**extra: Any) -> bytes:
    reply = {"ok": 1, "cmd": "INFO", "board": "arduino_uno", "transport": "serial_standard", "fw": "0.1.0",
             "hash": "12345678", "capabilities": uno_catalogue().capabilities, "window": 62, "checksum": "crc8",
             "ids": 1, "frames": "crc7", **extra}
    return json.dumps(reply, separators=(",", ":")).encode() + b"\n"


@given(st.binary(max_size=80))
def test_frame_parsers_return_or_refuse(data: bytes) -> None:
    if data:
        reply_length(data)
    parse_reply(data)
    unframe(data)


@given(st.binary(max_size=300))
def test_a_board_catalogue_is_read_or_refused(data: bytes) -> None:
    for blob in (data, board_deflate(data), board_deflate(data)[:-1], board_deflate(data) + b"\0"):
        try:
            Catalogue.from_board(blob)
        except FirmwareError:
            pass


@given(st.text(max_size=200))
def test_board_catalogue_lines_are_read_or_refused(text: str) -> None:
    try:
        Catalogue.from_board(board_deflate(text.encode("utf-8")))
    except FirmwareError:
        pass


def test_a_catalogue_that_unpacks_too_far_is_refused() -> None:
    """A deflate bomb (1 KiB unpacking to 2 MiB) ends in FirmwareError, not in memory."""
    with pytest.raises(FirmwareError, match="more than"):
        Catalogue.from_board(board_deflate(b"1 0 PING >\n" * 200_000))


def test_the_board_dictionary_is_frozen() -> None:
    """BOARD_DICTIONARY is part of protocol 1: every flashed board's catalogue was deflated with
    it. Changing it makes them unreadable; a new dictionary needs a new protocol version."""
    assert PROTOCOL == 1
    assert hashlib.sha256(BOARD_DICTIONARY).hexdigest() == DICTIONARY_SHA256


def test_a_truncated_or_padded_board_catalogue_is_refused() -> None:
    blob = uno_catalogue().board_blob()
    for damaged in (blob[:-1], blob + b"\0"):
        with pytest.raises(FirmwareError, match="cut short|after its end|does not unpack"):
            Catalogue.from_board(damaged)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=20))
def test_a_catalogue_file_is_read_or_refused(data: Any) -> None:
    try:
        Catalogue.from_json(data)
    except FirmwareError:
        pass
    try:
        Catalogue.from_json({"constants": {}, "commands": [data]})
    except FirmwareError:
        pass


def test_the_stable_form_round_trips_through_both_readers() -> None:
    catalogue = uno_catalogue()
    assert Catalogue.loads(catalogue.dumps()) == catalogue
    assert Catalogue.from_board(catalogue.board_blob()) == catalogue
    assert Catalogue.loads(catalogue.dumps()).hash == catalogue.hash


REPLY = st.one_of(
    st.binary(max_size=60),
    st.binary(max_size=40).map(lambda b: b + b"\n"),
    st.binary(max_size=12).map(lambda b: seal(bytes([0x80 | (b[0] & 0x7F if b else 0)]) + bytes(x & 0x7F for x in b))),
    st.sampled_from([b'{"ok":1,"cmd":"GPIO_READ"}\n', b"[" * 5000 + b"\n", b'{"event":"X"}*00\n', b"*zz\n",
                     b'{"ok":1,"id":"x","cmd":"PING"}\n', b"\xa1", bytes.fromhex("8041")]),
)


@FUZZ
@given(st.lists(REPLY, min_size=1, max_size=4), st.sampled_from(["GPIO_READ 7", "DHT_READ 2", "PING",
                                                                 "GPIO_WRITE 13 1", "ANALOG_READ A0"]))
def test_request_ends_in_a_reply_or_a_firmware_error(script: list[bytes], line: str) -> None:
    for compact in (False, True):
        client = client_on(script)
        if compact:
            client.forms = frame_forms(uno_catalogue())
            client.analog = (14, 15, 16, 17, 18, 19)
        try:
            reply = client.request(line)
        except FirmwareError:
            continue
        assert isinstance(reply, dict)


@FUZZ
@given(st.lists(REPLY, max_size=6))
def test_pipeline_and_info_end_in_replies_or_a_firmware_error(script: list[bytes]) -> None:
    for run in ("pipeline", "info", "compact"):
        client = client_on([info_line(), *script] if run != "pipeline" else script)
        try:
            if run == "pipeline":
                client.pipeline(["PING", "GPIO_READ 7", "GPIO_WRITE 13 1"])
            else:
                client.info(compact=run == "compact")
        except FirmwareError:
            continue


@FUZZ
@given(st.binary(max_size=120), st.integers(0, 300))
def test_a_damaged_catalogue_transfer_is_refused(noise: bytes, size: int) -> None:
    """The board's CATALOGUE chunks, with noise for data: refused, never taken."""
    chunk = {"ok": 1, "cmd": "CATALOGUE", "offset": 0, "size": size, "data": noise.hex()}
    client = client_on([info_line(catalogue="0badcafe"), json.dumps(chunk).encode() + b"\n"])
    with pytest.raises(FirmwareError):
        client.info(compact=True)


def test_a_good_transfer_with_the_wrong_hash_is_refused_naming_both() -> None:
    blob = uno_catalogue().board_blob()
    chunks = [json.dumps({"ok": 1, "cmd": "CATALOGUE", "offset": at, "size": len(blob),
                          "data": blob[at:at + 32].hex()}).encode() + b"\n" for at in range(0, len(blob), 32)]
    client = client_on([info_line(catalogue="0badcafe"), *chunks])
    with pytest.raises(FirmwareError, match=f"0badcafe.*{uno_catalogue().hash}"):
        client.info(compact=True)
    client = client_on([info_line(catalogue=uno_catalogue().hash), *chunks, b'{"ok":1,"cmd":"FRAMES","on":1}\n'])
    client.info(compact=True)
    assert client.catalogue == uno_catalogue() and "GPIO_READ" in client.forms


def test_frame_helper_and_unframe_agree() -> None:
    raw = frame("PING", 3)
    assert unframe(raw) == (raw[:-4], True)


def test_a_firmware_older_than_the_catalogue_gets_no_frames() -> None:
    """INFO without `catalogue` (built before it): frames are refused, naming the host's hash."""
    older = info_line()
    assert b'"catalogue"' not in older
    with pytest.raises(FirmwareError, match="reports no catalogue hash"):
        client_on([older]).info(compact=True)
    with pytest.raises(FirmwareError, match=f"this host has catalogue {uno_catalogue().hash}"):
        client_on([older]).info(compact=True, catalogue=uno_catalogue())
    client = client_on([older, b'{"ok":1,"cmd":"FRAMES","on":0}\n'])
    assert client.info().catalogue == ""
