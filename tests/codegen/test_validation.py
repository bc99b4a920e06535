"""Issue 12: bad selections and broken definitions are caught before compiling, with one clear
message naming the file (or option), the field and the rule, and no sketch written.

Each case of the issue is reproduced as the user met it; the property-based tests generate
definitions and selections and hold `check` and generation to the compiler: what they accept
compiles with avr-g++ against Debian's Arduino AVR core, what they refuse says why.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import files
from generator.codegen.catalog import problems
from generator.codegen.selection import Selection
from generator.codegen.settings import c_string, coerce
from generator.codegen.sketch import generate
from generator.errors import FirmwareError
from generator.paths import DEFINITIONS, TEMPLATES
from generator.pioenv.inifile import env_vars
from generator.pioenv.options import EnvOptions
from testsupport import helpers

AVR_CORE = Path("/usr/share/arduino/hardware/arduino/avr")
AVR_FLAGS = ("-std=gnu++11", "-Os", "-fsyntax-only", "-mmcu=atmega328p", "-DF_CPU=16000000L",
             "-DARDUINO=10813", "-DARDUINO_ARCH_AVR", "-Wall", "-Wextra", "-Werror",
             "-I", str(AVR_CORE / "cores" / "arduino"), "-I", str(AVR_CORE / "variants" / "standard"))
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def avr_compile(content: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """avr-g++ -fsyntax-only of a sketch as PlatformIO compiles it (Arduino.h first), warnings
    as errors: a literal too large for the ATmega's 32-bit long or a pin beyond uint8_t fails."""
    compiler = shutil.which("avr-g++")
    assert compiler, "avr-g++ is missing: apt-get install gcc-avr (make deps)"
    source = folder / "sketch.cpp"
    source.write_text("#include <Arduino.h>\n" + content, encoding="utf-8")
    return subprocess.run([compiler, *AVR_FLAGS, "-x", "c++", str(source)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "LC_ALL": "C"}, check=False)


def edit_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def pio(env: str, pio_board: str, mcu: str, platform: str = "avr-debian", /, **firmware: str) -> Selection:
    """The selection of an env as the pre: script hands it over, with the env's real hardware."""
    options = {"custom_firmware_transport": "serial_standard",
               **{f"custom_firmware_{key}": value for key, value in firmware.items()}}
    return Selection.from_platformio(env, pio_board, options, mcu=mcu, platform=platform)


def error_of(selection: Selection, definitions: Path | None = None) -> str:
    with pytest.raises(FirmwareError) as err:
        generate(selection, "case", *(definitions,) if definitions else ())
    return str(err.value)


# ---- case 1: the board definition must fit the env's hardware ---------------------------------

@pytest.mark.parametrize(("chosen", "described"), [
    ("arduino_mega2560", "'arduino_mega2560' (atmega2560, architecture avr)"),
    ("bmcu_c", "'bmcu_c' (ch32v203c8t6, architecture ch32v)"),
    ("wemos_d1_mini", "'wemos_d1_mini' (esp8266, architecture esp8266)"),
    ("megaatmega2560", "'arduino_mega2560' (atmega2560, architecture avr)"),
])
def test_board_definition_of_other_hardware_is_refused(chosen: str, described: str) -> None:
    """custom_firmware_board naming another MCU or architecture than the env's board stops
    generation, naming both sides and the fix (issue case 1)."""
    message = error_of(pio("uno", "uno", "atmega328p", board=chosen))
    assert (f"custom_firmware_board in [env:uno] selects {described}, which does not fit the env's "
            "board 'uno' (MCU atmega328p, platform avr-debian)") in message
    assert "drop it to use 'arduino_uno', the definition covering 'uno'" in message


def test_board_definition_with_the_same_mcu_or_listed_fits(definitions_copy: Path) -> None:
    """The same MCU (a Nano definition on an Uno) fits; so does a documented compatibility list."""
    assert generate(pio("uno", "uno", "atmega328p", board="arduino_nano"), "n").board == "arduino_nano"
    edit_json(definitions_copy / "boards" / "arduino_mega2560.json",
              lambda d: d.update(compatible_platformio_boards=["uno"]))
    assert generate(pio("uno", "uno", "atmega328p", board="arduino_mega2560"), "m",
                    definitions_copy).board == "arduino_mega2560"


def test_board_fit_is_refused_when_the_mcu_is_unknown() -> None:
    """Without PlatformIO's MCU, only a definition listing the env's board is taken."""
    message = error_of(pio("uno", "uno", "", "", board="arduino_nano"))
    assert "does not fit the env's board 'uno' (MCU unknown)" in message


# ---- case 2: definitions that would not compile or would misbehave ----------------------------

def _nested_file(definitions: Path) -> None:
    path = definitions / "commands" / "src" / "dht_read.cpp"
    path.write_text("@file:commands/src/dht_read_avr.cpp\n" + path.read_text(encoding="utf-8"), encoding="utf-8")


RULES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    # name: (how to break a definitions copy, the commands to select on an uno, the message)
    "integer_default_not_an_integer": (
        lambda d: edit_json(d / "commands/gpio_write.json", lambda c: c["args"][1].update(default="x")),
        "gpio_write",
        "definitions/commands/gpio_write.json: args[1] (value).default = 'x' is not an integer "
        "(rule: a default has the declared type)"),
    "maximum_beyond_long": (
        lambda d: edit_json(d / "commands/gpio_write.json", lambda c: c["args"][1].update(maximum=2 ** 40)),
        "gpio_write",
        "definitions/commands/gpio_write.json: args[1] (value).maximum = 1099511627776 is outside the "
        "target's 32-bit long (rule: integers from -2147483648 to 2147483647)"),
    "analog_pin_300": (
        lambda d: edit_json(d / "boards/arduino_uno.json", lambda b: b["pins"]["analog"].append(300)),
        "analog_read",
        "definitions/boards/arduino_uno.json: pins.analog: pin 300 does not fit the firmware's uint8_t "
        "pin tables (rule: pins 0..255)"),
    "nested_file": (
        _nested_file, "dht_read",
        "definitions/commands/dht_read.json: code.functions[*]: @file:commands/src/dht_read.cpp line 1 is "
        "an @file: reference itself (rule: no nested @file:)"),
    "optional_before_required": (
        lambda d: edit_json(d / "commands/gpio_write.json", lambda c: c["args"][0].update(default=13)),
        "gpio_write",
        "definitions/commands/gpio_write.json: args[1] (value) is required but follows the optional "
        "args[0] (pin) (rule: required arguments come before optional ones)"),
    "empty_pin_range": (
        lambda d: edit_json(d / "boards/arduino_uno.json", lambda b: b["pins"].update(digital=["19-0"])),
        "gpio_write",
        "definitions/boards/arduino_uno.json: pins.digital[0]: range '19-0' holds no pin "
        "(rule: a range is written first-last with first <= last)"),
    "enum_default_not_a_value": (
        lambda d: edit_json(d / "commands/gpio_read.json", lambda c: c["args"][1].update(default="down")),
        "gpio_read",
        "definitions/commands/gpio_read.json: args[1] (pull).default = 'down' is not one of its values "
        "['none', 'up'] (rule: an enum's default is one of its values)"),
    "pin_default_not_on_the_board": (
        lambda d: edit_json(d / "commands/gpio_read.json", lambda c: c["args"].append(
            {"name": "led", "type": "pin", "description": "d", "default": 40})),
        "gpio_read",
        "definitions/commands/gpio_read.json: args[2] (led).default = 40 is no usable pin of board "
        "'arduino_uno' (rule: a pin default is a pin of the board)"),
    # issue 18 case 1: `check` took a reply field the handler does not write, and duplicate names
    "reply_field_the_handler_does_not_write": (
        lambda d: edit_json(d / "commands/gpio_read.json", lambda c: c["reply"].append("bogus")),
        "gpio_read",
        "definitions/commands/gpio_read.json [avr]: fw_reply_gpio_read() called with 2 value(s), but its `reply` "
        "has 3: pin, value, bogus"),
    "duplicate_argument_names": (
        lambda d: edit_json(d / "commands/gpio_write.json", lambda c: c["args"][1].update(name="pin")),
        "gpio_write",
        "definitions/commands/gpio_write.json: args[1] (pin) is named like an earlier argument "
        "(rule: each argument has its own name)"),
    "duplicate_reply_fields": (
        lambda d: edit_json(d / "commands/gpio_write.json",
                            lambda c: c["reply"].append({"name": "pin", "type": "text"})),
        "gpio_write",
        "definitions/commands/gpio_write.json: reply[2] (pin) is named twice "
        "(rule: each reply field has its own name)"),
    "handler_writes_its_reply_by_hand": (
        lambda d: (d / "commands/src/gpio_write_avr.cpp").write_text(  # the uno's (its own, [avr])
            "static void cmd_gpio_write(const long* args) {\n  fw_reply_begin();\n"
            "  fw_reply_int(F(\"value\"), args[1]);\n  fw_reply_end();\n}\n", encoding="utf-8"),
        "gpio_write",
        "definitions/commands/gpio_write.json [avr]: writes its reply with fw_reply_begin(); a command with a "
        "`reply` answers through fw_reply_gpio_write(pin, value)"),
    "handler_calls_a_json_writer": (
        lambda d: (d / "commands/src/gpio_write_avr.cpp").write_text(
            "static void cmd_gpio_write(const long* args) {\n"
            "  fw_json_ii(F(\"pin\"), args[0], F(\"value\"), args[1]);\n}\n", encoding="utf-8"),
        "gpio_write",
        "definitions/commands/gpio_write.json [avr]: writes its reply with fw_json_ii(); a command with a "
        "`reply` answers through fw_reply_gpio_write(pin, value)"),
    "setting_default_outside_its_range": (
        lambda d: edit_json(d / "transports/serial_standard.json",
                            lambda t: t["settings"]["BAUD_RATE"].update(default=12)),
        "gpio_write",
        "definitions/transports/serial_standard.json: settings.BAUD_RATE.default = 12 is outside "
        "300..2000000 (rule: a default lies inside its range)"),
}


@pytest.mark.parametrize("case", RULES)
def test_check_refuses_what_would_not_compile(definitions_copy: Path, case: str) -> None:
    """`check` names the file, the field and the rule (issue case 2; it said 'all definitions are
    valid', or ended in a ValueError traceback for the enum)."""
    breaks, _, message = RULES[case]
    breaks(definitions_copy)
    result = helpers.run_generator("check", "--definitions", str(definitions_copy))
    assert result.returncode == 1, result.stdout
    assert message in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("case", RULES)
def test_generate_refuses_it_and_writes_no_sketch(definitions_copy: Path, case: str, tmp_path: Path) -> None:
    """A build reading the broken definition stops with the same message and writes nothing."""
    breaks, commands, message = RULES[case]
    breaks(definitions_copy)
    out = tmp_path / "out"
    result = helpers.run_generator("generate", "--board", "uno", "--transport", "serial_standard",
                                   "--commands", commands, "--definitions", str(definitions_copy),
                                   "-o", str(out))
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert helpers.files_under(out) == []


# ---- case 6: template syntax in a string setting is data; secrets are never shown -------------

@pytest.mark.parametrize("text", ["{{ x }}", "{%", "{% if %}", "a{{b", "{#", "{{{", "}}{{"])
def test_template_syntax_in_a_setting_is_data(text: str) -> None:
    """An SSID or password holding '{{' or '{%' generates, and the literal holds it exactly."""
    sketch = generate(Selection(board="wemos_d1_mini", transport="wifi_tcp",
                                settings={"WIFI_SSID": text, "WIFI_PASSWORD": text}), "wifi")
    literal = c_string(text)
    assert literal in sketch.content
    assert helpers.decode_c_literal(literal) == text.encode("utf-8")


def test_a_secret_is_never_shown() -> None:
    """Errors about a secret value name the option, never the value."""
    password = "hunter2-{{" + "x" * 70
    message = error_of(Selection(board="wemos_d1_mini", transport="wifi_tcp",
                                 settings={"WIFI_SSID": "net", "WIFI_PASSWORD": password}))
    assert "WIFI_PASSWORD" in message and "hunter2" not in message
    for decl, raw in (({"type": "integer", "description": "pin", "secret": True, "minimum": 0, "maximum": 9}, "1234"),
                      ({"type": "boolean", "description": "b", "secret": True}, "sesame")):
        with pytest.raises(FirmwareError) as err:
            coerce("CODE", decl, raw, "custom_firmware_code in [env:x]")
        assert raw not in str(err.value) and "(secret, not shown)" in str(err.value)


# ---- case 9: empty secret, mistyped names, inherited defaults, inline comments --------------

D1_OPTIONS = {"custom_firmware_transport": "wifi_tcp", "custom_firmware_wifi_ssid": "my-network",
              "custom_firmware_wifi_password": "", "custom_firmware_baud_rate": "115200"}
KEY = base64.b64encode(bytes(range(1, 33))).decode()  # what `python -m generator keygen` prints


def test_empty_secret_from_an_unset_variable_names_option_and_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """d1_mini with FIRMWARE_WIFI_PASSWORD unset: an error, not a firmware with no password."""
    monkeypatch.delenv("FIRMWARE_WIFI_PASSWORD", raising=False)
    selection = Selection.from_platformio("d1_mini", "d1_mini", D1_OPTIONS, mcu="esp8266",
                                          env_vars={"custom_firmware_wifi_password": ["FIRMWARE_WIFI_PASSWORD"]})
    message = error_of(selection)
    assert ("WIFI_PASSWORD is empty (custom_firmware_wifi_password in [env:d1_mini]): it reads the "
            "environment variable FIRMWARE_WIFI_PASSWORD, which is unset or empty") in message
    assert "export FIRMWARE_WIFI_PASSWORD=" in message


def test_an_explicitly_empty_password_is_an_open_network() -> None:
    """Written empty on purpose (no variable), the password is allowed: an open network."""
    sketch = generate(Selection.from_platformio("d1_mini", "d1_mini", D1_OPTIONS, mcu="esp8266"), "d1")
    assert sketch.board == "wemos_d1_mini"


# ---- case 10: the WiFi key: never shown, checked, warned about when absent -----------------

def d1_with_key(value: str, **env_vars: list[str]) -> Selection:
    return Selection.from_platformio("d1_mini", "d1_mini", {**D1_OPTIONS, "custom_firmware_wifi_key": value},
                                     mcu="esp8266", env_vars=env_vars)


def test_a_key_from_an_unset_variable_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIRMWARE_WIFI_KEY", raising=False)
    message = error_of(d1_with_key("", custom_firmware_wifi_key=["FIRMWARE_WIFI_KEY"]))
    assert ("WIFI_KEY is empty (custom_firmware_wifi_key in [env:d1_mini]): it reads the environment variable "
            "FIRMWARE_WIFI_KEY, which is unset or empty") in message


@pytest.mark.parametrize("wrong", [KEY[:-8] + "=" * 0, base64.b64encode(b"k" * 31).decode(), KEY[:-1] + "!",
                                   KEY + KEY])
def test_a_short_or_malformed_key_is_an_error_naming_option_and_variable(wrong: str) -> None:
    """Short, long or not base64: the option and the variable are named, the value never."""
    message = error_of(d1_with_key(wrong, custom_firmware_wifi_key=["FIRMWARE_WIFI_KEY"]))
    assert "WIFI_KEY (custom_firmware_wifi_key in [env:d1_mini], from FIRMWARE_WIFI_KEY)" in message
    assert "python -m generator keygen" in message and wrong not in message and wrong[:12] not in message


def test_without_a_key_one_warning_and_info_says_none() -> None:
    sketch = generate(d1_with_key(""), "d1")
    assert [w for w in sketch.warnings if "anyone" in w] == [
        "custom_firmware_wifi_key in [env:d1_mini] is not set: anyone who reaches this board over wifi_tcp can "
        "drive it (INFO says \"auth\":\"none\"); make a key with `python -m generator keygen`, export "
        "FIRMWARE_WIFI_KEY=<it> and set custom_firmware_wifi_key = ${sysenv.FIRMWARE_WIFI_KEY} in [env:d1_mini]"]
    assert helpers.info_reply_in_sketch(sketch.content)["auth"] == "none"
    assert "bearssl" not in sketch.content and "fw_noise" not in sketch.content


def test_with_a_key_info_says_noise_and_the_key_is_only_in_its_array() -> None:
    """The key's bytes appear once, as the transport's array; its text nowhere, not in a comment;
    the selection hash does not depend on it."""
    sketch = generate(d1_with_key(KEY), "d1")
    assert not [w for w in sketch.warnings if "anyone" in w]
    assert helpers.info_reply_in_sketch(sketch.content)["auth"] == "noise"
    array = "{" + ", ".join(f"0x{b:02X}" for b in range(1, 33)) + "}"
    assert sketch.content.count(array) == 1
    assert f"static const uint8_t wifi_tcp_key[FW_NOISE_KEY] = {array};" in sketch.content
    assert KEY not in sketch.content and KEY[:16] not in sketch.content
    comments = "\n".join(line for line in sketch.content.splitlines() if line.lstrip().startswith("//"))
    assert "0x01, 0x02" not in comments
    other = base64.b64encode(bytes(range(101, 133))).decode()
    assert generate(d1_with_key(other), "d1").hash == sketch.hash


def test_env_vars_and_inherited_options_come_from_platformio_ini(tmp_path: Path) -> None:
    """${sysenv.X} is read from the raw file; EnvOptions knows which options are inherited."""
    ini = tmp_path / "platformio.ini"
    ini.write_text("[env]\ncustom_firmware_baud_rate = 115200\n[env:d1]\n"
                   "custom_firmware_wifi_password = ${sysenv.FIRMWARE_WIFI_PASSWORD}  ; keep it out\n",
                   encoding="utf-8")
    options = EnvOptions("d1", {}, {"custom_firmware_wifi_password": "env:d1",
                                    "custom_firmware_baud_rate": "env", "board": "env:d1"}, ini)
    assert env_vars(options) == {"custom_firmware_wifi_password": ["FIRMWARE_WIFI_PASSWORD"]}
    assert options.inherited() == ["custom_firmware_baud_rate"]


def test_inherited_setting_another_env_uses_is_silent() -> None:
    """The shipped [env]'s baud rate, inherited by a wifi_tcp env: no warning on every build."""
    options = {**D1_OPTIONS, "custom_firmware_wifi_password": "pw", "custom_firmware_wifi_key": KEY}
    sketch = generate(Selection.from_platformio("d1_mini", "d1_mini", options, mcu="esp8266",
                                                inherited=["custom_firmware_baud_rate"]), "d1")
    assert sketch.warnings == []
    own = generate(Selection.from_platformio("d1_mini", "d1_mini", options, mcu="esp8266"), "d1")
    assert own.warnings == ["custom_firmware_baud_rate in [env:d1_mini] is not used by this selection "
                            "(settings: TCP_HANDSHAKE_TIMEOUT_MS, TCP_IDLE_TIMEOUT_S, TCP_PORT, WIFI_KEY, "
                            "WIFI_PASSWORD, WIFI_SSID)"]


@pytest.mark.parametrize(("typo", "closest"), [("custom_firmware_baud_rat", "custom_firmware_baud_rate"),
                                               ("custom_firmware_relay_activelow", "custom_firmware_relay_active_low"),
                                               ("custom_firmware_command", "custom_firmware_commands")])
def test_mistyped_option_is_an_error_with_the_closest_name(typo: str, closest: str) -> None:
    """A custom_firmware_* name no definition declares is an error, not a warning."""
    message = error_of(Selection.from_platformio("uno", "uno", {
        "custom_firmware_transport": "serial_standard", typo: "1"}, mcu="atmega328p"))
    assert f"{typo} in [env:uno]: no firmware option has this name" in message
    assert f"did you mean {closest}?" in message


@pytest.mark.parametrize("text", ["gpio_write ; the LED\ngpio_read  # the button",
                                  "gpio_write;the LED\ngpio_read#button, ", "gpio_write,\n; analog_read\ngpio_read"])
def test_inline_comments_in_a_command_list(text: str) -> None:
    """';' and '#' start a comment to the end of the line, as in platformio.ini."""
    selection = Selection.from_platformio("uno", "uno", {"custom_firmware_transport": "serial_standard",
                                                         "custom_firmware_commands": text})
    assert selection.commands == ("gpio_write", "gpio_read")


# ---- property-based: what check accepts compiles, what it refuses says why -----------------

PROP_ID = "prop_cmd"
HANDLER = f"static void cmd_{PROP_ID}(const long* args) {{\n  (void)args;\n  fw_reply_begin();\n  fw_reply_end();\n}}\n"
WORDS = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
WIDE = st.integers(-(2 ** 40), 2 ** 40)


@st.composite
def arguments(draw: st.DrawFn) -> dict[str, Any]:
    """One command argument of any type, with values that are sometimes wrong."""
    kind = draw(st.sampled_from(["integer", "pin", "analog_pin", "pwm_pin", "enum"]))
    arg: dict[str, Any] = {"name": draw(WORDS), "type": kind, "description": "generated"}
    if kind == "integer":
        arg["minimum"], arg["maximum"] = draw(WIDE), draw(WIDE)
    if kind == "enum":
        arg["values"] = draw(st.lists(WORDS, min_size=1, max_size=4, unique=True))
    default = draw(st.one_of(st.none(), WIDE, st.integers(0, 400), WORDS, st.sampled_from(["A0", "x"]),
                             st.sampled_from(arg.get("values", ["none"]))))
    if default is not None:
        arg["default"] = default
    return arg


@pytest.fixture(scope="module")
def prop_defs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return helpers.copy_definitions(tmp_path_factory.mktemp("prop") / "definitions")


def _write_command(definitions: Path, args: list[dict[str, Any]]) -> None:
    command = {"$schema": "../schemas/command.schema.json", "id": PROP_ID, "description": "generated",
               "args": args, "code": {"functions": {"*": f"@file:commands/src/{PROP_ID}.cpp"}}}
    (definitions / "commands" / "src" / f"{PROP_ID}.cpp").write_text(HANDLER, encoding="utf-8")
    (definitions / "commands" / f"{PROP_ID}.json").write_text(json.dumps(command), encoding="utf-8")


def _says_why(message: str, file: str) -> None:
    assert file in message, message
    assert "(rule: " in message or "does not match schemas/" in message, message


@PROPERTY
@given(args=st.lists(arguments(), max_size=4, unique_by=lambda a: a["name"]))
def test_generated_commands_either_compile_or_say_why(prop_defs: Path, args: list[dict[str, Any]]) -> None:
    """A generated command definition: refused with file and rule, or it compiles for the Uno
    and its optional arguments are exactly its trailing ones."""
    _write_command(prop_defs, args)
    try:
        sketch = generate(Selection(board="uno", transport="serial_standard", commands=(PROP_ID,)), "p", prop_defs)
    except FirmwareError as exc:
        _says_why(str(exc), f"commands/{PROP_ID}.json")
        return
    optional = [("default" in a) for a in args]
    assert optional == sorted(optional), "an optional argument before a required one was accepted"
    match = re.search(rf'FW_NAME_(\d+)\[\] FW_FLASH = "{PROP_ID.upper()}"', sketch.content)
    assert match
    with tempfile.TemporaryDirectory() as folder:
        result = avr_compile(sketch.content, Path(folder))
    assert result.returncode == 0, f"accepted but does not compile:\n{json.dumps(args)}\n{result.stderr[-2000:]}"


PIN_ITEM = st.one_of(st.integers(0, 300), st.tuples(st.integers(0, 300), st.integers(0, 300)).map(
    lambda r: f"{r[0]}-{r[1]}"))


@PROPERTY
@given(digital=st.lists(PIN_ITEM, min_size=1, max_size=4), pwm=st.lists(PIN_ITEM, max_size=3),
       analog=st.lists(st.integers(0, 300), max_size=4, unique=True))
def test_generated_boards_either_compile_or_say_why(prop_defs: Path, digital: list[Any], pwm: list[Any],
                                                    analog: list[int]) -> None:
    """A generated Uno pin map: refused with file and rule, or it compiles with every pin command."""
    path = prop_defs / "boards" / "arduino_uno.json"
    original = path.read_bytes()
    edit_json(path, lambda b: b["pins"].update(digital=digital, pwm=pwm, analog=analog))
    try:
        sketch = generate(Selection(board="uno", transport="serial_standard",
                                    commands=("gpio_write", "analog_read", "pwm_write")), "b", prop_defs)
    except FirmwareError as exc:
        _says_why(str(exc), "boards/arduino_uno.json")
        return
    finally:
        path.write_bytes(original)
    with tempfile.TemporaryDirectory() as folder:
        result = avr_compile(sketch.content, Path(folder))
    assert result.returncode == 0, f"accepted but does not compile:\n{digital} {pwm} {analog}\n{result.stderr[-2000:]}"


@PROPERTY
@given(text=st.text(max_size=40))
def test_any_string_setting_is_data(text: str) -> None:
    """Any text: its literal holds no template syntax and means exactly the text."""
    literal = c_string(text)
    assert "{{" not in literal and "{%" not in literal and "{#" not in literal
    assert helpers.decode_c_literal(literal) == text.encode("utf-8")


COMMAND_IDS = st.sampled_from(["gpio_write", "gpio_read", "analog_read", "pwm_write", "relay_set", "dht_read",
                               "ping", "gpio_wirte", "nope"])


@PROPERTY
@given(commands=st.lists(COMMAND_IDS, max_size=4), board=st.sampled_from(["", "arduino_uno", "arduino_nano",
                                                                          "arduino_mega2560", "bmcu_c"]),
       baud=st.one_of(st.integers(-10, 3_000_000).map(str), WORDS))
def test_generated_selections_either_generate_or_name_the_option(commands: list[str], board: str,
                                                                 baud: str) -> None:
    """A selection on an env with board = uno: generated as asked, or refused naming the option."""
    options = {"custom_firmware_transport": "serial_standard", "custom_firmware_commands": ", ".join(commands),
               "custom_firmware_baud_rate": baud}
    if board:
        options["custom_firmware_board"] = board
    try:
        sketch = generate(Selection.from_platformio("uno", "uno", options, mcu="atmega328p"), "s")
    except FirmwareError as exc:
        assert re.search(r"custom_firmware_(commands|baud_rate|board) in \[env:uno\]", str(exc)), str(exc)
        return
    assert sketch.board in ("arduino_uno", "arduino_nano")
    assert 300 <= int(baud) <= 2_000_000
    assert sketch.capabilities == sorted({c.upper() for c in commands} - {"PING"})


def test_check_agrees_on_a_command_it_accepts(prop_defs: Path) -> None:
    """`check` renders every board x transport with a generated command it accepts."""
    _write_command(prop_defs, [{"name": "n", "type": "integer", "minimum": -5, "maximum": 5,
                                "description": "d", "default": 0}])
    assert problems(prop_defs, TEMPLATES) == []


# ---- issue 18 case 6: a definition file too deep or too large, even one not selected -------------

OVERSIZED: dict[str, tuple[str, str]] = {
    # name: (content of definitions/commands/relay_set.json, which the selection leaves out; message)
    "nested_past_the_parser": ('{"id": "relay_set", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
                               "objects and arrays nested more than 32 levels deep"),
    "nested_past_the_bound": ('{"id": "relay_set", "x": ' + "[" * 40 + "]" * 40 + "}",
                              "objects and arrays nested more than 32 levels deep"),
    "larger_than_a_mebibyte": ('{"id": "relay_set", "description": "' + "x" * (1 << 20) + '"}',
                               "larger than 1048576 bytes (rule: a definition file is at most 1 MiB)"),
}


@pytest.mark.parametrize("case", OVERSIZED)
def test_an_oversized_definition_is_refused_by_name(definitions_copy: Path, tmp_path: Path, case: str) -> None:
    """`check` and a generation that does not select the file both name it and the rule (they ended
    in "internal error: RecursionError ... a bug", naming no file)."""
    content, rule = OVERSIZED[case]
    (definitions_copy / "commands" / "relay_set.json").write_text(content, encoding="utf-8")
    checked = helpers.run_generator("check", "--definitions", str(definitions_copy))
    generated = helpers.run_generator("generate", "--board", "uno", "--transport", "serial_standard",
                                      "--commands", "gpio_write", "--definitions", str(definitions_copy),
                                      "-o", str(tmp_path / "out"))
    for result, said in ((checked, checked.stdout), (generated, generated.stderr)):
        assert result.returncode == 1
        assert f"definitions/commands/relay_set.json: {rule}" in said, said
        assert "internal error" not in result.stdout + result.stderr
    assert helpers.files_under(tmp_path / "out") == []


def test_the_bounds_leave_room_above_every_shipped_definition() -> None:
    """The shipped files sit far inside the bounds, so the bounds refuse only the pathological."""
    for path in DEFINITIONS.rglob("*.json"):
        assert files.json_depth(json.loads(path.read_text(encoding="utf-8"))) <= files.MAX_JSON_DEPTH // 2, path
        assert path.stat().st_size <= files.MAX_FILE_BYTES // 64, path
