"""The host's framing helpers (docs/protocol.md): text checksums (CRC-8) and ids, and binary
frames: CRC-7, numbers, request encoding and reply parsing from a catalogue, into JSON mode's
objects. Issue 18's cases 3 and 5 (a reply frame with too few or too many values, a number past
32 bits) and 4's XOR collision are here, against what the old code did."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator.errors import FirmwareError
from generator.host.client import frame, unframe
from generator.host.frames import decode_number, encode_number, frame_forms, parse_reply, seal
from generator.identity import FirmwareIdentity
from generator.paths import DEFINITIONS, ROOT
from generator.protocol.checks import crc7, crc7_by_bits, crc8, crc8_by_bits
from testsupport.helpers import uno_catalogue

UNO_ANALOG = (14, 15, 16, 17, 18, 19)
CAPABILITIES = ["ANALOG_READ", "DHT_READ", "GPIO_READ", "GPIO_WRITE", "RELAY_SET"]


def test_frame_adds_id_and_the_crc8_of_every_byte_before_the_star() -> None:
    assert frame("PING") == b"PING*1F\n"
    assert frame("PING", 7) == b"@7 PING*44\n"


def test_crc8_is_the_plain_one_and_tells_apart_what_xor_could_not() -> None:
    assert crc8(b"123456789") == 0xF4  # CRC-8 (poly 0x07, init 0, no reflection)'s check value
    old = [0, 0]
    for i, line in enumerate((b"GPIO_WRITE 3 0", b"GPIO_WRITE 2 1")):
        for byte in line:
            old[i] ^= byte
    assert old[0] == old[1]  # issue 18 case 4: the XOR checksum took one for the other
    assert crc8(b"GPIO_WRITE 3 0") != crc8(b"GPIO_WRITE 2 1")


@given(st.binary(max_size=40))
def test_crc8_table_matches_bit_by_bit(data: bytes) -> None:
    assert crc8(data) == crc8_by_bits(data)


@pytest.mark.parametrize(("raw", "expected"), [
    (b'{"ok":1,"id":7,"cmd":"PING"}*01\n', (b'{"ok":1,"id":7,"cmd":"PING"}', True)),
    (b'{"ok":1,"id":7,"cmd":"PING"}*02\n', (b'{"ok":1,"id":7,"cmd":"PING"}', False)),
    (b'{"ok":1,"cmd":"PING"}\n', (b'{"ok":1,"cmd":"PING"}', None)),
    (b'{"ok":1}*zz\n', (b'{"ok":1}*zz', False)),
])
def test_unframe_checks_the_suffix(raw: bytes, expected: tuple[bytes, bool | None]) -> None:
    assert unframe(raw) == expected


def test_crc7_is_the_mmc_one() -> None:
    assert crc7(b"123456789") == 0x75  # CRC-7/MMC's check value
    assert crc7(b"") == 0


@given(st.binary(max_size=40))
def test_crc7_table_matches_bit_by_bit(data: bytes) -> None:
    assert crc7(data) == crc7_by_bits(data)


@given(st.integers(-2**31, 2**31 - 1))
def test_numbers_round_trip_and_never_start_like_text(value: int) -> None:
    data = encode_number(value)
    assert decode_number(data, 0) == (value, len(data))
    assert all(b < 0x80 for b in data) and data[0] != 0x40
    assert all(b & 0x40 for b in data[:-1]) and not data[-1] & 0x40


def test_numbers_past_32_bits_are_refused_not_wrapped() -> None:
    """Issue 18 case 5: the old decoder masked to 32 bits, so 2**32 + 13 read as 13."""
    past = bytes([0x40 | 0x04, 0x40, 0x40, 0x40, 0x40, 0x1A])  # 2**32 + zigzag(13), in 6 groups
    assert decode_number(past, 0) is None
    assert parse_reply(seal(bytes([0x81]) + past)) is None
    with pytest.raises(ValueError, match="32-bit"):
        encode_number(2**32 + 13)


def test_small_numbers_take_one_byte() -> None:
    assert [encode_number(v) for v in (0, 1, -1, 31, 32)] == [b"\x00", b"\x02", b"\x01", b"\x3e", b"\x41\x00"]


def test_requests_are_encoded_from_the_catalogue() -> None:
    forms = frame_forms(uno_catalogue())
    assert [forms[n].op for n in CAPABILITIES] == [0, 1, 2, 3, 4]
    assert uno_catalogue().capabilities == CAPABILITIES
    assert forms["GPIO_READ"].encode(["7"], UNO_ANALOG) == (seal(bytes([0x80 | 1 << 5 | 2, 14])), [7])
    assert forms["ANALOG_READ"].encode(["a1"], UNO_ANALOG) == (seal(bytes([0xA0, 30])), [15])
    assert forms["DHT_READ"].encode(["2", "DHT11"], UNO_ANALOG) == (seal(bytes([0xC1, 4, 2])), [2, "dht11"])
    # what only the text parser can answer goes as text: it names the fault
    for name, words in [("GPIO_READ", ["7", "sideways"]), ("GPIO_WRITE", ["x", "1"]), ("GPIO_WRITE", ["1", "2", "3"]),
                        ("ANALOG_READ", ["A9"]), ("GPIO_WRITE", ["1234567890", "1"])]:
        assert forms[name].encode(words, UNO_ANALOG) is None


def test_replies_become_json_mode_objects() -> None:
    forms = frame_forms(uno_catalogue())
    assert parse_reply(seal(bytes([0x81, 2]))) == (False, [1])
    assert parse_reply(seal(bytes([0xA1]))) == (False, [1])  # held in the header
    assert parse_reply(seal(bytes([0xBF]))) == (False, [31])
    assert forms["GPIO_READ"].reply_object([1], False, [7]) == {"ok": 1, "cmd": "GPIO_READ", "pin": 7, "value": 1}
    dht = parse_reply(seal(bytes([0x82]) + b"\x40-3.5\x00\x4061.0\x00"))
    assert dht == (False, ["-3.5", "61.0"])
    assert forms["DHT_READ"].reply_object(dht[1], False, [2]) == {
        "ok": 1, "cmd": "DHT_READ", "pin": 2, "model": "dht22", "temperature": -3.5, "humidity": 61.0}
    error = parse_reply(seal(b"\xc2\x40bad_pin\x00\x40pin\x00"))
    assert error == (True, ["bad_pin", "pin"])
    assert forms["GPIO_WRITE"].reply_object(error[1], True, []) == {
        "ok": 0, "cmd": "GPIO_WRITE", "error": "bad_pin", "arg": "pin"}
    assert forms["GPIO_WRITE"].reply_object(["overrun"], True, []) == {"ok": 0, "cmd": "", "error": "overrun"}


@pytest.mark.parametrize("damaged", [
    seal(bytes([0x81, 2]))[:-1] + b"\x00",      # wrong CRC
    seal(bytes([0x82, 2])),                     # fewer values than the header says
    seal(bytes([0x81, 2, 4])),                  # more
    seal(bytes([0x81, 0x42])),                  # a number without its last group
    bytes([0x81, 0x82, 0x00]),                  # a header inside
    seal(bytes([0xA1, 2])),                     # a value after one held in the header
])
def test_damaged_reply_frames_are_refused(damaged: bytes) -> None:
    assert parse_reply(damaged) is None


@pytest.mark.parametrize(("name", "values"), [
    ("GPIO_READ", []),          # issue 18 case 3: `8041` to a GPIO_READ raised StopIteration
    ("GPIO_READ", [1, 2]),      # and one value too many was taken
    ("GPIO_READ", ["1"]),       # text where the catalogue says int
    ("DHT_READ", [21, 40]),     # numbers where it says tenths
    ("DHT_READ", ["x", "40.0"]),
])
def test_a_reply_that_disagrees_with_the_catalogue_is_refused(name: str, values: list[int | str]) -> None:
    """Issue 18 case 3: `80 41` (a CRC-valid frame with no value) to a GPIO_READ raised
    StopIteration, and a frame with one value too many was taken."""
    assert parse_reply(bytes.fromhex("8041")) == (False, [])
    with pytest.raises(FirmwareError, match="does not match the board's catalogue"):
        frame_forms(uno_catalogue())[name].reply_object(values, False, [7])
    assert parse_reply(seal(bytes([0x80 | len(values)]) + b"".join(
        encode_number(v) if isinstance(v, int) else b"\x40" + v.encode() + b"\x00" for v in values))) is not None


def test_every_command_but_info_and_catalogue_declares_its_reply_fields() -> None:
    for path in (DEFINITIONS / "commands").glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert ("reply" in data) == (data["id"] not in ("info", "catalogue")), path.name


def test_the_frame_examples_in_the_protocol_doc_hold() -> None:
    doc = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    forms = frame_forms(uno_catalogue())
    for request, reply in [(forms["GPIO_READ"].encode(["7"], UNO_ANALOG), bytes([0xA1])),
                           (forms["GPIO_WRITE"].encode(["13", "1"], UNO_ANALOG), bytes([0x80]))]:
        assert request is not None
        assert f"`{request[0].hex(' ').upper()}` out" in doc
        assert f"`{seal(reply).hex(' ').upper()}` back" in doc


def test_the_frame_codec_and_the_catalogue_import_no_code_generator() -> None:
    """The host's frames and the catalogue sit below codegen: a host never loads it for them."""
    code = ("import sys, generator.host.frames, generator.protocol.catalogue; "
            "print(sorted(m for m in sys.modules if m.startswith('generator.codegen')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"


def test_probe_tells_a_board_built_from_other_definitions() -> None:
    """INFO's selection hash is the same for the same selection from other definitions (issue 18
    case 2: nothing noticed); the catalogue hash differs, and probe's comparison says so."""
    mine = FirmwareIdentity.of("arduino_uno", "serial_standard", "0.1.0", "12345678", ["GPIO_READ"], "aaaaaaaa")
    board = FirmwareIdentity.of("arduino_uno", "serial_standard", "0.1.0", "12345678", ["GPIO_READ"], "bbbbbbbb")
    assert mine.differences(board) == ["catalogue: board has bbbbbbbb, this env builds aaaaaaaa"]
    assert mine.differences(FirmwareIdentity.from_json({**board.to_json(), "catalogue": "aaaaaaaa"})) == []
