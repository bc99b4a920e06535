"""Parsing option values written by people: one parser per kind of value."""
from __future__ import annotations

import base64
import binascii
import re
import secrets

from generator.errors import FirmwareError

# What every firmware option of platformio.ini starts with (custom_firmware_transport, ...).
PREFIX = "custom_firmware_"
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def parse_bool(raw: object, name: str, where: str) -> bool:
    """yes/no, true/false, on/off, 1/0 (any case) -> bool; anything else is an error naming the
    value's `name` and `where` it was set."""
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS | FALSE_WORDS:
        return word in TRUE_WORDS
    raise FirmwareError(f"{name} = {raw!r} ({where}): must be true or false",
                        f"write one of: {', '.join(sorted(TRUE_WORDS | FALSE_WORDS))}")


def split_ids(text: str) -> list[str]:
    """'dht_read, RELAY_SET' (commas or new lines) -> ['dht_read', 'relay_set'], kept once each.

    As in platformio.ini, ';' and '#' start a comment that runs to the end of the line; ids never
    hold either, so 'gpio_read;button' is gpio_read too (PlatformIO itself only cuts ' ;' and ' #').
    """
    seen: list[str] = []
    for item in re.split(r"[,\n]", re.sub(r"[;#][^\n]*", "", text)):
        item = item.strip().lower()
        if item and item not in seen:
            seen.append(item)
    return seen


KEY_BYTES = 32  # a shared key: Noise's pre-shared key size, as ESPHome's API encryption key


def new_key() -> str:
    """A fresh random key, written in base64 as settings of type "key" take it."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def parse_key(raw: str, name: str, where: str, hint: str = "") -> bytes:
    """A key written in base64 -> its KEY_BYTES bytes; an empty text -> b"" (no key). Anything
    else is an error naming `name` and `where` it was set, never showing the text."""
    text = raw.strip()
    if not text:
        return b""
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise FirmwareError(f"{name} ({where}): not base64 (the value is secret, not shown)", hint) from None
    if len(key) != KEY_BYTES:
        raise FirmwareError(f"{name} ({where}): must be {KEY_BYTES} bytes written in base64, got {len(key)} "
                            "bytes (the value is secret, not shown)", hint)
    return key
