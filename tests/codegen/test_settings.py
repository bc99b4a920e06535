"""Typed settings: C string literals proven with a real C++ compiler, and coerce()'s errors."""
from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from generator.codegen.selection import Selection
from generator.codegen.settings import CString, c_string, coerce, resolve_settings
from generator.errors import FirmwareError
from testsupport import helpers

NASTY = [
    'say "hi"',
    "back\\slash\\",
    "\\",
    '\\"',
    "trigraph ??= ??/ ??' ??( ??) ??! ??< ??> ??-",
    "???=",
    "line\nbreak\r\n",
    "ctl \x01\x02\x07\x08\x0b\x0c\x1b\x1f\x7f tab\t",
    "caf\u00e9 \u2615 \u65e5\u672c \U0001f600",
    "\u00e90123 \x017 \x7fF",   # an escape followed by digits: must not run on
    "*/ /* comment",
    '"); system("x"); //',
    "'single' %s %d {{ x }}",
    "",
]
RANDOM_ALPHABET = '"\\?=/!*\'{}%#\n\r\t\x01\x1f\x7f0123456789abcxX \u00e9\u00ff\u20ac\U0001f600'


def random_strings(count: int, seed: int = 20240601) -> list[str]:
    """Seeded random strings over an alphabet of everything that can go wrong in a literal."""
    rng = random.Random(seed)
    return ["".join(rng.choice(RANDOM_ALPHABET) for _ in range(rng.randint(1, 24))) for _ in range(count)]


CASES = NASTY + random_strings(60)


@pytest.fixture(scope="module")
def literal_printer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A host program whose argv[1]-th literal, made by c_string, is fwrite()n to stdout.

    Built as strict ISO C++11 with trigraphs on, warnings as errors: a literal that ends early,
    runs on, forms a trigraph or injects code changes the output or breaks the build.
    """
    compiler = shutil.which("g++")
    assert compiler, "the host g++ is needed (apt-get install g++)"
    folder = tmp_path_factory.mktemp("cstring")
    lines = ["#include <cstdio>", "#include <cstdlib>"]
    for index, text in enumerate(CASES):
        lines.append(f"static const char L{index}[] = {c_string(text)};")
    lines.append("struct Lit { const char* data; unsigned long size; };")
    lines.append("static const Lit LITS[] = {" + ", ".join(
        f"{{L{i}, sizeof L{i} - 1}}" for i in range(len(CASES))) + "};")
    lines.append("int main(int argc, char** argv) {")
    lines.append("  if (argc != 2) return 2;")
    lines.append("  const Lit& lit = LITS[std::atoi(argv[1])];")
    lines.append("  std::fwrite(lit.data, 1, lit.size, stdout);")
    lines.append("  return 0;")
    lines.append("}")
    source = folder / "literals.cpp"
    source.write_text("\n".join(lines) + "\n", encoding="ascii")
    program = folder / "literals"
    build = subprocess.run([compiler, "-std=c++11", "-trigraphs", "-Wall", "-Wextra", "-Werror",
                            "-o", str(program), str(source)], capture_output=True, text=True, check=False)
    assert build.returncode == 0, f"the literals do not compile:\n{build.stderr[-3000:]}"
    return program


@pytest.mark.parametrize("index", range(len(CASES)), ids=lambda i: f"case{i}")
def test_c_string_compiles_to_the_exact_utf8_bytes(literal_printer: Path, index: int) -> None:
    """The compiled literal holds exactly the UTF-8 bytes of the input, nothing more or less."""
    out = subprocess.run([str(literal_printer), str(index)], capture_output=True, check=True).stdout
    assert out == CASES[index].encode("utf-8")


@pytest.mark.parametrize("text", NASTY)
def test_c_string_is_plain_printable_ascii(text: str) -> None:
    """The literal is printable ASCII whatever the input, so no source encoding can change it."""
    literal = c_string(text)
    assert literal.startswith('"') and literal.endswith('"')
    assert all(0x20 <= ord(char) < 0x7F for char in literal)
    assert "??" not in literal, "a '??' pair could start a trigraph"
    assert helpers.decode_c_literal(literal) == text.encode("utf-8")


def test_cstring_setting_renders_as_a_literal() -> None:
    """A string setting keeps its value as text but prints as its C literal."""
    value = coerce("WIFI_SSID", {"type": "string", "maxLength": 32}, 'a"b', "custom_firmware_wifi_ssid")
    assert isinstance(value, CString)
    assert value == 'a"b'
    assert str(value) == '"a\\"b"'
    assert f"{value}" == '"a\\"b"'


BAUD = {"type": "integer", "description": "baud", "minimum": 300, "maximum": 2000000}
FLAG = {"type": "boolean", "description": "flag"}
SSID = {"type": "string", "description": "ssid", "minLength": 1, "maxLength": 32}
OPTION = "custom_firmware_baud_rate in [env:uno]"


@pytest.mark.parametrize("raw", ["12", "299", "2000001", "-1", "fast", "1.5", "0x10", "", "  ", "1e3", "9600 baud"])
def test_integer_out_of_range_or_not_a_number_names_the_option(raw: str) -> None:
    """An integer outside its range, or not a decimal integer, is refused naming option and range."""
    with pytest.raises(FirmwareError) as err:
        coerce("BAUD_RATE", BAUD, raw, OPTION)
    message = str(err.value)
    assert OPTION in message
    assert f"BAUD_RATE = {raw!r} ({OPTION}): must be an integer from 300 to 2000000" in message


@pytest.mark.parametrize(("raw", "value"), [("300", 300), ("2000000", 2000000), (" 9600 ", 9600),
                                            ("+115200", 115200), (57600, 57600)])
def test_integer_in_range_is_typed(raw: Any, value: int) -> None:
    """Range ends are inclusive; surrounding blanks are ignored; the result is an int."""
    result = coerce("BAUD_RATE", BAUD, raw, OPTION)
    assert result == value and type(result) is int


def test_boolean_is_not_an_integer() -> None:
    """true is not silently taken as the integer 1."""
    with pytest.raises(FirmwareError, match="BAUD_RATE = .*: must be an integer"):
        coerce("BAUD_RATE", {"type": "integer", "minimum": 0, "maximum": 1}, True, OPTION)


@pytest.mark.parametrize(("raw", "value"), [
    ("true", True), ("TRUE", True), ("Yes", True), ("on", True), ("1", True), (" true ", True), (True, True),
    ("false", False), ("False", False), ("NO", False), ("off", False), ("0", False), (False, False),
])
def test_boolean_words(raw: Any, value: bool) -> None:
    """The documented words, in any case, give a real bool."""
    assert coerce("RELAY_ACTIVE_LOW", FLAG, raw, "custom_firmware_relay_active_low") is value


@pytest.mark.parametrize("raw", ["maybe", "2", "enabled", "", "truee", "y"])
def test_boolean_other_words_name_the_option(raw: str) -> None:
    """Anything else is an error naming the option and saying what is expected."""
    option = "custom_firmware_relay_active_low in [env:nano]"
    with pytest.raises(FirmwareError) as err:
        coerce("RELAY_ACTIVE_LOW", FLAG, raw, option)
    assert option in str(err.value)
    assert "RELAY_ACTIVE_LOW = " in str(err.value)
    assert "): must be true or false" in str(err.value)


@pytest.mark.parametrize(("raw", "size"), [("x" * 33, 33), ("\u00e9" * 17, 34), ("", 0)])
def test_string_length_in_utf8_bytes_names_the_option(raw: str, size: int) -> None:
    """Length limits count UTF-8 bytes (17 x 'e-acute' is 34 bytes > 32): errors name the option."""
    option = "custom_firmware_wifi_ssid in [env:d1_mini]"
    with pytest.raises(FirmwareError) as err:
        coerce("WIFI_SSID", SSID, raw, option)
    message = str(err.value)
    assert option in message and "WIFI_SSID" in message
    assert f"1 to 32 bytes long in UTF-8, got {size}" in message


@pytest.mark.parametrize("raw", ["x" * 32, "\u00e9" * 16, "a"])
def test_string_within_limits_is_kept(raw: str) -> None:
    """Exactly 32 bytes (ASCII or UTF-8) and 1 byte are accepted unchanged."""
    assert coerce("WIFI_SSID", SSID, raw, "custom_firmware_wifi_ssid") == raw


def test_missing_setting_names_the_option_to_add() -> None:
    """A declared setting with no value and no default stops with the option to add."""
    declared = {"WIFI_SSID": (SSID, "transports/wifi_tcp.json"), "BAUD_RATE": ({**BAUD, "default": 9600}, "x")}
    with pytest.raises(FirmwareError) as err:
        resolve_settings(declared, Selection(transport="wifi_tcp", origin="[env:d1]"))
    assert "missing setting WIFI_SSID" in str(err.value)
    assert "add custom_firmware_wifi_ssid = <value> to [env:d1]" in str(err.value)


def test_defaults_are_checked_and_given_values_win() -> None:
    """Defaults are coerced like given values; a bad default names the file declaring it."""
    declared = {"BAUD_RATE": ({**BAUD, "default": 9600}, "transports/serial_standard.json")}
    assert resolve_settings(declared, Selection(transport="t")) == {"BAUD_RATE": 9600}
    assert resolve_settings(declared, Selection(transport="t", settings={"BAUD_RATE": "57600"})) == {"BAUD_RATE": 57600}
    broken = {"BAUD_RATE": ({**BAUD, "default": 12}, "transports/serial_standard.json")}
    with pytest.raises(FirmwareError, match=r"BAUD_RATE = 12 \(default in transports/serial_standard.json\)"):
        resolve_settings(broken, Selection(transport="t"))
