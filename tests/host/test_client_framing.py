"""The client's framing helpers (docs/protocol.md): checksums, ids, compact replies."""
from __future__ import annotations

import pytest

from generator.host.client import compact_value, frame, parse_compact, reply_fields, unframe


def test_frame_adds_id_and_the_xor_of_every_byte_before_the_star() -> None:
    assert frame("PING") == b"PING*10\n"
    assert frame("PING", 7) == b"@7 PING*47\n"


@pytest.mark.parametrize(("raw", "expected"), [
    (b'{"ok":1,"id":7,"cmd":"PING"}*49\n', (b'{"ok":1,"id":7,"cmd":"PING"}', True)),
    (b'{"ok":1,"id":7,"cmd":"PING"}*48\n', (b'{"ok":1,"id":7,"cmd":"PING"}', False)),
    (b'{"ok":1,"cmd":"PING"}\n', (b'{"ok":1,"cmd":"PING"}', None)),
    (b"= 13 1*2C\n", (b"= 13 1", False)),
    (b"= 13*zz\n", (b"= 13*zz", False)),
])
def test_unframe_checks_the_suffix(raw: bytes, expected: tuple[bytes, bool | None]) -> None:
    assert unframe(raw) == expected


def test_compact_replies_become_json_mode_objects() -> None:
    assert parse_compact("= 13 1", "GPIO_WRITE", ["pin", "value"]) == {"ok": 1, "cmd": "GPIO_WRITE", "pin": 13,
                                                                       "value": 1}
    assert parse_compact("@9 =", "PING", []) == {"ok": 1, "id": 9, "cmd": "PING"}
    assert parse_compact("!bad_pin pin", "PWM_WRITE", ["pin", "duty"]) == {"ok": 0, "cmd": "PWM_WRITE",
                                                                          "error": "bad_pin", "arg": "pin"}
    assert parse_compact("= 2 dht22 -3.5 61.0", "DHT_READ", ["pin", "model", "temperature", "humidity"]) == {
        "ok": 1, "cmd": "DHT_READ", "pin": 2, "model": "dht22", "temperature": -3.5, "humidity": 61.0}
    assert parse_compact("= 13", "GPIO_WRITE", ["pin", "value"]) is None  # a value missing
    assert parse_compact("@x =", "PING", []) is None
    assert compact_value("007") == 7 and compact_value("up") == "up"


def test_every_command_but_info_declares_its_reply_fields() -> None:
    fields = reply_fields()
    assert "INFO" not in fields
    assert fields["PING"] == [] and fields["DHT_READ"] == ["pin", "model", "temperature", "humidity"]
