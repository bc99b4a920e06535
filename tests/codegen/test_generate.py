"""generator.codegen.sketch.generate: golden sketches, what they must contain, and every error it
reports.

Golden files live in tests/codegen/golden/<name>.ino; `UPDATE_GOLDEN=1 pytest
tests/codegen/test_generate.py` rewrites them (then review the diff).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from generator.boards import board_facts
from generator.codegen.definitions import Definitions
from generator.codegen.render import pin_tables
from generator.codegen.resolve import resolve
from generator.codegen.selection import Selection
from generator.codegen.sketch import Sketch, generate
from generator.errors import FirmwareError
from testsupport import helpers

GOLDEN = Path(__file__).parent / "golden"
SYSTEM = ["CATALOGUE", "CHECKSUM", "FRAMES", "INFO", "PING", "RESET"]
SPEC_COMMANDS = ("gpio_write", "gpio_read", "analog_read", "pwm_write", "relay_set", "dht_read")
SSID = 'Caf\u00e9 "Home" \\ ??= \u2615'
PASSWORD = '"); ESP.restart(); //'

# name -> (selection, the capabilities INFO must report for it)
CASES: dict[str, tuple[Selection, list[str]]] = {
    "uno_serial": (
        Selection(board="uno", transport="serial_standard",
                  commands=("gpio_write", "gpio_read", "analog_read"), devices=("dht22_sensor",)),
        ["ANALOG_READ", "DHT_READ", "GPIO_READ", "GPIO_WRITE"]),
    "mega_serial_all": (
        Selection(board="megaatmega2560", transport="serial_standard", commands=SPEC_COMMANDS,
                  settings={"BAUD_RATE": "9600"}),
        ["ANALOG_READ", "DHT_READ", "GPIO_READ", "GPIO_WRITE", "PWM_WRITE", "RELAY_SET"]),
    "nano_relay_active_low": (
        Selection(board="nanoatmega328", transport="serial_standard", commands=("analog_read",),
                  devices=("relay_module", "led_dimmer"), settings={"RELAY_ACTIVE_LOW": "true"}),
        ["ANALOG_READ", "GPIO_WRITE", "PWM_WRITE", "RELAY_SET"]),
    "d1_mini_wifi_tcp": (
        Selection(board="d1_mini", transport="wifi_tcp", devices=("dht22_sensor", "relay_module"),
                  settings={"WIFI_SSID": SSID, "WIFI_PASSWORD": PASSWORD, "TCP_PORT": "4444"}),
        ["DHT_READ", "RELAY_SET"]),
    "bmcu_c_serial": (
        Selection(board="bmcu_c", transport="serial_standard",
                  commands=("gpio_write", "gpio_read", "analog_read", "pwm_write")),
        ["ANALOG_READ", "GPIO_READ", "GPIO_WRITE", "PWM_WRITE"]),
}


@pytest.fixture(scope="module")
def sketches() -> dict[str, Sketch]:
    """Each case generated once from the real definitions."""
    return {name: generate(selection, name) for name, (selection, _) in CASES.items()}


def generate_error(selection: Selection, definitions: Path = helpers.DEFINITIONS) -> str:
    """The message of the FirmwareError generating `selection` must raise."""
    with pytest.raises(FirmwareError) as err:
        generate(selection, "broken", definitions)
    return str(err.value)


def uno(*commands: str, devices: tuple[str, ...] = (), **settings: str) -> Selection:
    """A serial Uno selection."""
    return Selection(board="uno", transport="serial_standard", commands=commands, devices=devices,
                     settings=settings)


def write_json(path: Path, data: Any) -> None:
    """Write a definition file."""
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def edit_json(path: Path, **changes: Any) -> dict[str, Any]:
    """Load a definition, apply top-level changes, write it back; returns the new data."""
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    write_json(path, data)
    return data


def add_command(definitions: Path, command_id: str, functions: dict[str, str | list[str]]) -> None:
    """A minimal command definition whose `functions` block names one file per architecture key,
    holding the given code (a .cpp.j2 when it holds '{{ ')."""
    block = {}
    for arch, code in functions.items():
        text = code if isinstance(code, str) else "\n".join(code)
        name = f"{command_id}_{'any' if arch == '*' else arch}.cpp" + (".j2" if "{{ " in text else "")
        (definitions / "commands" / "src" / name).write_text(text + "\n", encoding="utf-8")
        block[arch] = f"@file:commands/src/{name}"
    write_json(definitions / "commands" / f"{command_id}.json", {
        "$schema": "../schemas/command.schema.json", "id": command_id,
        "description": "test command", "code": {"functions": block}})


# ---- golden sketches and their contents ------------------------------------------------------

@pytest.mark.parametrize("name", CASES)
def test_golden(sketches: dict[str, Sketch], name: str) -> None:
    """The sketch is byte-for-byte the reviewed golden file."""
    golden = GOLDEN / f"{name}.ino"
    data = sketches[name].content.encode("utf-8")
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        golden.write_bytes(data)
    assert golden.is_file(), f"{golden} is missing: run UPDATE_GOLDEN=1 pytest {__file__}"
    assert data == golden.read_bytes(), f"{name} differs from {golden} (UPDATE_GOLDEN=1 to accept)"


@pytest.mark.parametrize("name", CASES)
def test_info_reply_and_dispatch_match_the_selection(sketches: dict[str, Sketch], name: str) -> None:
    """INFO's constant names board, transport, hash and the sorted capabilities (and, for a
    transport that takes a key, whether it has one); the dispatch table holds the selected
    commands, then the system commands last."""
    sketch, (_, capabilities) = sketches[name], CASES[name]
    assert sketch.capabilities == capabilities
    info = helpers.info_reply_in_sketch(sketch.content)
    assert info == {"board": sketch.board, "transport": sketch.transport, "fw": info["fw"], "hash": sketch.hash,
                    "catalogue": sketch.catalogue.hash, "capabilities": capabilities, "window": info["window"],
                    "checksum": "crc8", "ids": 1, "frames": "crc7",
                    **({"auth": "none"} if sketch.transport == "wifi_tcp" else {})}
    assert re.fullmatch(r"[0-9a-f]{8}", sketch.hash)
    assert helpers.dispatch_names(sketch.content) == capabilities + SYSTEM
    for command in capabilities + SYSTEM:
        assert sketch.content.count(f"static void cmd_{command.lower()}(") == 1


@pytest.mark.parametrize("name", CASES)
def test_no_template_syntax_left(sketches: dict[str, Sketch], name: str) -> None:
    """No Jinja marker survives rendering."""
    content = sketches[name].content
    for marker in ("{{", "}}", "{%", "%}", "{#"):
        assert marker not in content


def test_generation_is_deterministic_across_processes() -> None:
    """Two interpreters with different hash seeds write the same bytes as this one."""
    code = ("import sys; from generator.codegen import Selection, generate; "
            "s = generate(Selection(board='megaatmega2560', transport='serial_standard', "
            "commands=('relay_set','gpio_write','dht_read','analog_read'), "
            "devices=('led_dimmer','relay_module','dht11_sensor'), settings={'RELAY_ACTIVE_LOW': 'yes'}), 'det'); "
            "sys.stdout.buffer.write(s.content.encode())")
    outputs = []
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONPATH": str(helpers.ROOT), "PYTHONHASHSEED": seed}
        outputs.append(subprocess.run([helpers.PYTHON, "-c", code], env=env, capture_output=True,
                                      check=True, timeout=60).stdout)
    here = generate(Selection(board="megaatmega2560", transport="serial_standard",
                              commands=("relay_set", "gpio_write", "dht_read", "analog_read"),
                              devices=("led_dimmer", "relay_module", "dht11_sensor"),
                              settings={"RELAY_ACTIVE_LOW": "yes"}), "det")
    assert outputs[0] == outputs[1] == here.content.encode("utf-8")


def test_capabilities_sorted_uppercase_without_system_commands() -> None:
    """Order of selection does not matter; PING/INFO/RESET are never capabilities."""
    sketch = generate(uno("relay_set", "PING", "gpio_write", "info", "Reset", "analog_read"), "caps")
    assert sketch.capabilities == ["ANALOG_READ", "GPIO_WRITE", "RELAY_SET"]
    assert helpers.dispatch_names(sketch.content) == sketch.capabilities + SYSTEM


def test_ids_in_any_case_give_the_same_sketch() -> None:
    """Board, transport, command and device ids are accepted in any case, in both front ends."""
    lower = generate(uno("gpio_write", "analog_read", devices=("dht22_sensor",)), "case")
    mixed = generate(Selection(board="ARDUINO_UNO", transport="Serial_Standard",
                               commands=("Analog_Read", "GPIO_WRITE", "gpio_write"),
                               devices=("DHT22_Sensor",)), "case")
    ini = generate(Selection.from_platformio("case", "uno", {
        "custom_firmware_transport": "SERIAL_STANDARD", "custom_firmware_commands": "GPIO_WRITE, Analog_Read",
        "custom_firmware_devices": "Dht22_Sensor"}), "case")
    assert mixed.content == lower.content == ini.content
    assert lower.capabilities == ["ANALOG_READ", "DHT_READ", "GPIO_WRITE"]


def test_custom_firmware_board_accepts_a_platformio_board_id() -> None:
    """custom_firmware_board may name a PlatformIO board id, whatever its case."""
    sketch = generate(Selection.from_platformio("ch", "ch32v203c8t6_evt_r0", {
        "custom_firmware_transport": "serial_standard", "custom_firmware_board": "genericCH32V203C8T6"}), "ch")
    assert sketch.board == "bmcu_c"


def test_devices_add_their_commands_once() -> None:
    """relay_module names RELAY_SET twice and led_dimmer two commands: each lands once, lowercased."""
    sketch = generate(uno("Relay_Set", devices=("relay_module", "led_dimmer", "relay_module")), "dev")
    assert sketch.capabilities == ["GPIO_WRITE", "PWM_WRITE", "RELAY_SET"]
    assert helpers.dispatch_names(sketch.content) == sketch.capabilities + SYSTEM
    assert generate(uno(devices=("relay_module",)), "dev").capabilities == ["RELAY_SET"]


def test_settings_reach_code_as_typed_values(sketches: dict[str, Sketch]) -> None:
    """BAUD_RATE as an integer, RELAY_ACTIVE_LOW as C's true/false."""
    assert "// At BAUD_RATE (9600), 8N1." in sketches["mega_serial_all"].content
    assert "/ 9600UL - 1) / 2" in sketches["mega_serial_all"].content
    assert "(on != true)" in sketches["nano_relay_active_low"].content
    assert "(on != false)" in sketches["mega_serial_all"].content


def test_esp8266_sketch_has_wifi_code(sketches: dict[str, Sketch]) -> None:
    """wifi_tcp on the D1 mini: ESP8266 WiFi, escaped credentials, ESP.restart, no AVR code."""
    content = sketches["d1_mini_wifi_tcp"].content
    assert "#include <ESP8266WiFi.h>" in content
    assert "ESP.restart();" in content
    assert "static WiFiServer wifi_tcp_server(4444);" in content
    for avr_only in ("avr/pgmspace.h", "PROGMEM", "avr/wdt.h", "wdt_enable", "NVIC_SystemReset"):
        assert avr_only not in content
    match = re.search(r"WiFi\.begin\((\".*?(?<!\\)\"), (\".*?(?<!\\)\")\);", content)
    assert match, "no WiFi.begin(<ssid>, <password>) call"
    assert helpers.decode_c_literal(match.group(1)) == SSID.encode("utf-8")
    assert helpers.decode_c_literal(match.group(2)) == PASSWORD.encode("utf-8")


def test_ch32v_sketch_has_its_reset(sketches: dict[str, Sketch]) -> None:
    """The BMCU-C (CH32V203) resets with NVIC_SystemReset, and has no AVR or ESP code."""
    content = sketches["bmcu_c_serial"].content
    assert "NVIC_SystemReset();" in content
    for foreign in ("avr/pgmspace.h", "PROGMEM", "wdt_enable", "ESP.restart", "ESP8266WiFi.h"):
        assert foreign not in content


def test_hash_ignores_secrets_but_not_settings() -> None:
    """Changing WIFI_PASSWORD (secret) keeps the hash; BAUD_RATE or the commands change it."""
    base_settings = {"WIFI_SSID": "net", "WIFI_PASSWORD": "one"}

    def wifi(**settings: str) -> Sketch:
        """The D1 mini wifi_tcp sketch with `settings` changed."""
        return generate(Selection(board="d1_mini", transport="wifi_tcp", commands=("gpio_read",),
                                  settings={**base_settings, **settings}), "h")

    first, other_password = wifi(), wifi(WIFI_PASSWORD="two")
    assert other_password.content != first.content
    assert other_password.hash == first.hash
    assert wifi(WIFI_SSID="other").hash != first.hash
    assert wifi(TCP_PORT="4000").hash != first.hash

    serial = generate(uno("gpio_read"), "h")
    assert generate(uno("gpio_read", BAUD_RATE="9600"), "h").hash != serial.hash
    assert generate(uno("gpio_read", BAUD_RATE="115200"), "h").hash == serial.hash  # the default
    assert generate(uno("gpio_write"), "h").hash != serial.hash


@pytest.mark.parametrize(("name", "reserved"), [
    ("uno_serial", {0, 1}),
    ("mega_serial_all", {0, 1}),
    ("bmcu_c_serial", {9, 10, 12, 13, 14, 15, 19, 20, 21, 22, 23, 24, 25}),
    ("d1_mini_wifi_tcp", {0, 1, 2, 3, 15}),  # wifi_tcp logs on Serial: its RX/TX stay reserved
])
def test_reserved_pins_include_the_serial_transport(sketches: dict[str, Sketch], name: str,
                                                    reserved: set[int]) -> None:
    """serial_standard reserves the board's RX/TX; wifi_tcp does not use them."""
    selection, _ = CASES[name]
    plan = resolve(Definitions(helpers.DEFINITIONS), selection)
    assert set(pin_tables(plan)["reserved_pins"]) == reserved
    assert helpers.pins_with_flag("FW_PIN_RESERVED", sketches[name].content) == reserved


def test_serial_pins_are_named_in_the_sketch(sketches: dict[str, Sketch]) -> None:
    """The reserved-pin table says why each pin is reserved."""
    assert "0: Serial RX (serial_standard), 1: Serial TX (serial_standard)" in sketches["uno_serial"].content


# ---- errors: unknown ids -----------------------------------------------------------------------

@pytest.mark.parametrize(("selection", "expected"), [
    (Selection(board="unoo", transport="serial_standard"),
     ["unknown board 'unoo' (--board)", "did you mean 'uno'?", "valid boards: arduino_leonardo, arduino_mega2560, "
      "arduino_micro, arduino_nano, arduino_pro_16mhz, arduino_pro_8mhz, arduino_uno, bmcu_c,",
      "to add a board, describe it in a file definitions/boards/<id>.json"]),
    (Selection(board="uno", transport="serial_standrd"),
     ["unknown transport 'serial_standrd' (--transport)", "did you mean 'serial_standard'?",
      "valid transports: serial_standard, wifi_tcp"]),
    (uno("gpio_write", "dht_raed"),
     ["unknown command 'dht_raed' (--commands)", "did you mean 'dht_read'?",
      "valid commands: analog_read, analog_watch, catalogue, checksum, dht_read, frames, gpio_read, gpio_watch, "
      "gpio_write, info, ping, pwm_write, relay_set, reset"]),
    (uno(devices=("dht22_sensr",)),
     ["unknown device 'dht22_sensr' (--devices)", "did you mean 'dht22_sensor'?",
      "valid devices: dht11_sensor, dht22_sensor, led_dimmer, relay_module, soil_moisture_sensor"]),
    (uno("zzzz_qqqq"), ["unknown command 'zzzz_qqqq'", "valid commands: analog_read"]),
], ids=["board", "transport", "command", "device", "no-close-match"])
def test_unknown_ids_list_valid_ones_and_suggest(selection: Selection, expected: list[str]) -> None:
    """Unknown ids list the valid ones and suggest the closest, if any is close."""
    message = generate_error(selection)
    for part in expected:
        assert part in message
    if "zzzz" in message:
        assert "did you mean" not in message


def test_unknown_id_from_platformio_names_the_option() -> None:
    """From platformio.ini, the error names the custom_firmware_ option and the env."""
    message = generate_error(Selection.from_platformio("uno", "uno", {
        "custom_firmware_transport": "serial_standard", "custom_firmware_commands": "gpio_write, dht_raed"}))
    assert "unknown command 'dht_raed' (custom_firmware_commands in [env:uno])" in message
    assert "did you mean 'dht_read'?" in message


def test_unknown_platformio_board_names_the_env() -> None:
    """An env `board` no definition covers names the env and lists covered boards."""
    message = generate_error(Selection.from_platformio("x", "diecimila",
                                                       {"custom_firmware_transport": "serial_standard"}))
    assert "unknown board 'diecimila' (board in [env:x])" in message
    assert "uno" in message and "megaatmega2560" in message
    assert "leonardo" in message and "to add a board" in message


@pytest.mark.parametrize(("name", "board"), [("nanoatmega328", "arduino_nano"), ("ARDUINO_NANO", "arduino_nano"),
                                             ("megaADK", "arduino_mega2560"), ("genericch32v203c8t6", "bmcu_c")])
def test_board_facts_look_a_board_up_as_a_selection_does(name: str, board: str) -> None:
    """boards.py looks a board up by definition id or PlatformIO id, any case, through the
    definitions alone (it used to build a dummy Selection for codegen.resolve), with the same error."""
    assert board_facts(name).id == board
    with pytest.raises(FirmwareError) as err:
        board_facts("esp32dev", where="--board")
    assert str(err.value).startswith("unknown board 'esp32dev' (--board)\n  hint: valid boards: arduino_leonardo")


# ---- errors: broken definitions ------------------------------------------------------------------

BROKEN_JSON = '{\n  "id": "dht11_sensor",\n  "name": "x" "oops"\n}\n'


def test_malformed_json_names_file_line_and_column(definitions_copy: Path) -> None:
    """Invalid JSON is reported as file:line:column."""
    (definitions_copy / "devices" / "dht11_sensor.json").write_text(BROKEN_JSON, encoding="utf-8")
    message = generate_error(uno(devices=("dht11_sensor",)), definitions_copy)
    assert "definitions/devices/dht11_sensor.json:3:15: invalid JSON" in message


def test_schema_violation_names_file_and_path(definitions_copy: Path) -> None:
    """A schema violation names the file, the schema and the path inside the document."""
    path = definitions_copy / "commands" / "gpio_write.json"
    data = json.loads(path.read_text())
    data["args"][1]["type"] = "float"
    write_json(path, data)
    message = generate_error(uno("gpio_write"), definitions_copy)
    assert "definitions/commands/gpio_write.json: does not match schemas/command.schema.json" in message
    assert "at args/1/type: 'float' is not one of" in message


def test_id_must_equal_the_file_name(definitions_copy: Path) -> None:
    """A definition whose id differs from its file name is refused."""
    edit_json(definitions_copy / "transports" / "serial_standard.json", id="serial_std")
    message = generate_error(uno("gpio_write"), definitions_copy)
    assert "definitions/transports/serial_standard.json: id 'serial_std' differs from the file name" in message


def test_files_edited_between_two_generations_are_read_anew(definitions_copy: Path) -> None:
    """What a process keeps from one generation to the next (validated definitions, checked code)
    is keyed by content: a definition or code file rewritten in place with the same size and
    modification time is read anew."""
    code = definitions_copy / "commands" / "src" / "mine.cpp"
    code.write_text("static void cmd_gpio_write(const long* args) { fw_reply_gpio_write(args[0], 1); /* one */ }\n")
    path = definitions_copy / "commands" / "gpio_write.json"
    data = json.loads(path.read_text())
    data["code"]["functions"] = {"*": "@file:commands/src/mine.cpp"}  # every architecture
    write_json(path, data)
    assert "/* one */" in generate(uno("gpio_write"), "in", definitions_copy).content

    def rewrite(file: Path, old: str, new: str) -> None:
        before = file.stat()
        file.write_text(file.read_text().replace(old, new))
        os.utime(file, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert file.stat().st_size == before.st_size

    rewrite(code, "/* one */", "/* two */")
    assert "/* two */" in generate(uno("gpio_write"), "in", definitions_copy).content
    rewrite(path, '"integer"', '"integex"')
    assert "at args/1/type: 'integex' is not one of" in generate_error(uno("gpio_write"), definitions_copy)


@pytest.mark.parametrize("reference", ["../outside.cpp", "commands/../../outside.cpp", "{outside}",
                                       "commands/src/link_out.cpp"],
                         ids=["dotdot", "nested-dotdot", "absolute", "symlink"])
def test_file_reference_outside_definitions_is_refused(definitions_copy: Path, reference: str) -> None:
    """@file: may not read anything outside definitions/, however the path is written."""
    outside = definitions_copy.parent / "outside.cpp"
    outside.write_text("static void cmd_gpio_write(const long* args) { (void)args; }\n")
    (definitions_copy / "commands" / "src" / "link_out.cpp").symlink_to(outside)
    reference = reference.format(outside=outside)
    path = definitions_copy / "commands" / "gpio_write.json"
    data = json.loads(path.read_text())
    data["code"]["functions"] = {"*": f"@file:{reference}"}
    write_json(path, data)
    message = generate_error(uno("gpio_write"), definitions_copy)
    assert f"definitions/commands/gpio_write.json: code.functions[*]: @file:{reference} points outside " \
           "the definitions folder" in message


def test_file_reference_inside_definitions_is_read(definitions_copy: Path) -> None:
    """The control case: the same command with its code moved to a file under definitions/."""
    (definitions_copy / "commands" / "src" / "mine.cpp").write_text(
        "static void cmd_gpio_write(const long* args) { fw_reply_gpio_write(args[0], 1); /* from mine.cpp */ }\n")
    path = definitions_copy / "commands" / "gpio_write.json"
    data = json.loads(path.read_text())
    data["code"]["functions"] = {"*": "@file:commands/src/mine.cpp"}  # every architecture
    write_json(path, data)
    assert "/* from mine.cpp */" in generate(uno("gpio_write"), "in", definitions_copy).content


def test_transport_without_code_for_the_architecture() -> None:
    """wifi_tcp on an Uno names the transport, the board and its architecture."""
    message = generate_error(Selection(board="uno", transport="wifi_tcp", settings={"WIFI_SSID": "n"}))
    assert "transport 'wifi_tcp' has no code for board 'arduino_uno' (architecture avr)" in message
    assert "it supports: esp8266" in message


def test_command_without_code_for_the_architecture(definitions_copy: Path) -> None:
    """A command with only esp8266 code is refused on avr (named with both), accepted on esp8266."""
    add_command(definitions_copy, "esp_only", {"esp8266": "static void cmd_esp_only(const long* args) {}"})
    message = generate_error(uno("gpio_write", "esp_only"), definitions_copy)
    assert "command 'esp_only' has no code for board 'arduino_uno' (architecture avr)" in message
    assert "definitions/commands/esp_only.json" in message
    generate(Selection(board="d1_mini", transport="serial_standard", commands=("esp_only",)), "ok", definitions_copy)


def test_command_without_handler_is_refused(definitions_copy: Path) -> None:
    """Code that does not define cmd_<id> is refused, saying what to define."""
    add_command(definitions_copy, "no_handler", {"*": "static void helper() {}"})
    message = generate_error(uno("no_handler"), definitions_copy)
    assert "no_handler.json: no handler for architecture avr" in message
    assert "static void cmd_no_handler(const long* args)" in message


def test_a_transport_must_say_how_replies_leave(definitions_copy: Path) -> None:
    """A transport's code defines fw_write(uint8_t), the protocol core's way out for a reply's
    bytes; one without it is refused, saying what to define (a compile error would say less)."""
    source = definitions_copy / "transports" / "src" / "serial_standard.cpp.j2"
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace("static void fw_write(uint8_t c) {", "static void fw_send(uint8_t c) {"),
                      encoding="utf-8")
    message = generate_error(uno("gpio_write"), definitions_copy)
    assert "definitions/transports/serial_standard.json: no fw_write for architecture avr" in message
    assert "static void fw_write(uint8_t c)" in message
    source.write_text(text, encoding="utf-8")
    assert "static void fw_write(uint8_t c) {" in generate(uno("gpio_write"), "ok", definitions_copy).content


def test_a_handler_is_a_definition_not_a_mention(definitions_copy: Path) -> None:
    """The handler is found by reading the code's declarations: one only named in a comment, or
    declared without a body, is no handler (a regular expression over the text took both)."""
    add_command(definitions_copy, "mention", {"*": ["// static void cmd_mention(const long* args) {}",
                                                    "static void cmd_mention(const long* args);"]})
    assert "mention.json: no handler for architecture avr" in generate_error(uno("mention"), definitions_copy)


def test_setup_must_name_a_function_of_the_definition(definitions_copy: Path) -> None:
    """setup and loop name a function the definition's code defines; any other name is refused."""
    add_command(definitions_copy, "starts", {"*": "static void cmd_starts(const long* args) { (void)args; }"})
    path = definitions_copy / "commands" / "starts.json"
    data = json.loads(path.read_text())
    data["code"]["setup"] = {"*": "starts_begin"}
    write_json(path, data)
    message = generate_error(uno("starts"), definitions_copy)
    assert ("definitions/commands/starts.json: code.setup names starts_begin, which its code for "
            "architecture avr does not define as a function without parameters") in message
    with (definitions_copy / "commands" / "src" / "starts_any.cpp").open("a") as handle:
        handle.write("static void starts_begin() {}\n")
    assert "  starts_begin();\n" in generate(uno("starts"), "ok", definitions_copy).content


@pytest.mark.parametrize(("code", "message"), [
    ("static void cmd_gpio_write(const long* args) {}",
     "definitions/commands/gpio_write.json: code.functions[*]: 'static void cmd_gpio_write(const long* a...' "
     "is C++ inside the JSON (rule: code lives in files under definitions/, named by '@file:PATH' lines)"),
    ("@file:commands/src/gpio_write.txt",
     "definitions/commands/gpio_write.json: code.functions[*]: @file:commands/src/gpio_write.txt is no C++ file "
     "(rule: a code file ends in .cpp, .h, .cpp.j2, .h.j2; Jinja2 only in .j2)"),
], ids=["inline", "not-cpp"])
def test_cpp_lives_in_cpp_files(definitions_copy: Path, code: str, message: str) -> None:
    """C++ written into the JSON, or a code file that is not C++, is refused naming the rule."""
    path = definitions_copy / "commands" / "gpio_write.json"
    data = json.loads(path.read_text())
    data["code"]["functions"]["*"] = code
    write_json(path, data)
    assert message in generate_error(uno("gpio_write"), definitions_copy)


def test_jinja_in_a_cpp_file_is_refused(definitions_copy: Path) -> None:
    """A .cpp is inserted as it is: template syntax in it would reach the compiler, so it is
    refused naming the file and the fix; C++'s own nested braces are not template syntax."""
    source = definitions_copy / "commands" / "src" / "relay_set.cpp.j2"
    source.rename(source.with_suffix(""))
    path = definitions_copy / "commands" / "relay_set.json"
    data = json.loads(path.read_text())
    data["code"]["functions"]["*"] = "@file:commands/src/relay_set.cpp"
    write_json(path, data)
    message = generate_error(uno("relay_set"), definitions_copy)
    assert ("definitions/commands/relay_set.json: code.functions[*]: @file:commands/src/relay_set.cpp holds "
            "template syntax '{{ RELAY_ACTIVE_LOW }}' (rule: only a .j2 file is rendered with Jinja2)") in message
    add_command(definitions_copy, "table", {"*": ["static const int table_pairs[2][2] = {{0, 1}, {2, 3}};",
                                                  "static void cmd_table(const long* args) { (void)args; }"]})
    assert "{{0, 1}, {2, 3}}" in generate(uno("table"), "ok", definitions_copy).content


def test_missing_setting_names_the_option() -> None:
    """A setting without value or default names the custom_firmware_ option to add."""
    message = generate_error(Selection.from_platformio("d1", "d1_mini", {
        "custom_firmware_transport": "wifi_tcp", "custom_firmware_wifi_password": "secret"}))
    assert "missing setting WIFI_SSID" in message
    assert "custom_firmware_wifi_ssid" in message


def test_bad_setting_value_names_the_option() -> None:
    """An invalid value names the option, its value and what is expected."""
    message = generate_error(Selection.from_platformio("nano", "nanoatmega328", {
        "custom_firmware_transport": "serial_standard", "custom_firmware_commands": "relay_set",
        "custom_firmware_relay_active_low": "sometimes"}))
    assert "RELAY_ACTIVE_LOW = 'sometimes' (custom_firmware_relay_active_low in [env:nano]): " \
           "must be true or false" in message


def test_unused_setting_is_a_warning() -> None:
    """A setting no definition declares is a warning, not silently accepted."""
    sketch = generate(Selection.from_platformio("u", "uno", {
        "custom_firmware_transport": "serial_standard", "custom_firmware_wifi_ssid": "x"}), "u")
    assert sketch.warnings == ["custom_firmware_wifi_ssid in [env:u] is not used by this selection "
                               "(settings: BAUD_RATE, RS485_DE_PIN, SERIAL_PORT)"]


def test_device_naming_a_missing_command_is_reported(definitions_copy: Path) -> None:
    """A device template naming a command that does not exist stops generation; not dropped."""
    write_json(definitions_copy / "devices" / "pulse_counter.json", {
        "$schema": "../schemas/device.schema.json", "id": "pulse_counter", "name": "Pulse counter",
        "commands": {"count": {"hardwareCmd": "SINGLE_WIRE_PULSE"}, "read": {"hardwareCmd": "GPIO_READ"}}})
    message = generate_error(uno("gpio_write", devices=("pulse_counter",)), definitions_copy)
    assert "unknown command 'SINGLE_WIRE_PULSE' (named by definitions/devices/pulse_counter.json)" in message


def test_rendered_template_syntax_is_refused(definitions_copy: Path) -> None:
    """Code that renders to '{{ ... }}' would leave template syntax in the sketch: refused."""
    add_command(definitions_copy, "braces", {"*": [
        "static void cmd_braces(const long* args) { (void)args; }", "// {{ '{{' }} left }}"]})
    message = generate_error(uno("braces"), definitions_copy)
    assert "the generated sketch still holds '{{ left }}'" in message


def test_undefined_name_in_code_names_the_block(definitions_copy: Path) -> None:
    """An undefined template name is reported with the definition and block."""
    add_command(definitions_copy, "undef", {"*": "static void cmd_undef(const long* args) { x = {{ NOPE }}; }"})
    message = generate_error(uno("undef"), definitions_copy)
    assert "definitions/commands/undef.json: code.functions[*]: 'NOPE' is undefined" in message


# ---- the command line --------------------------------------------------------------------------

def break_definitions(definitions: Path) -> None:
    """Three independent problems: malformed JSON, a schema violation, a device's missing command."""
    (definitions / "devices" / "dht11_sensor.json").write_text(BROKEN_JSON, encoding="utf-8")
    path = definitions / "commands" / "pwm_write.json"
    data = json.loads(path.read_text())
    data["args"][0]["type"] = "pin_of_doom"
    write_json(path, data)
    write_json(definitions / "devices" / "pulse_counter.json", {
        "$schema": "../schemas/device.schema.json", "id": "pulse_counter", "name": "Pulse counter",
        "requiredCommand": "SINGLE_WIRE_PULSE"})


def test_check_lists_every_problem(definitions_copy: Path) -> None:
    """`check` exits 1 listing each of three independent problems."""
    break_definitions(definitions_copy)
    result = helpers.run_generator("check", "--definitions", str(definitions_copy))
    assert result.returncode == 1
    problems = [line for line in result.stdout.splitlines() if line.startswith("problem: ")]
    assert len(problems) == 3, result.stdout
    assert "devices/dht11_sensor.json:3:15: invalid JSON" in result.stdout
    assert "commands/pwm_write.json: does not match schemas/command.schema.json" in result.stdout
    assert "unknown command 'SINGLE_WIRE_PULSE' (named by definitions/devices/pulse_counter.json)" in result.stdout
    assert result.stdout.rstrip().endswith("3 problem(s)")
    assert "Traceback" not in result.stderr


def test_check_finds_a_combination_that_does_not_render(definitions_copy: Path) -> None:
    """Schema-valid files can still fail together: check generates every board x transport."""
    add_command(definitions_copy, "avr_broken", {"avr": "static void cmd_avr_broken(const long*) { {{ NOPE }} }",
                                                 "*": "static void cmd_avr_broken(const long*) {}"})
    result = helpers.run_generator("check", "--definitions", str(definitions_copy))
    assert result.returncode == 1
    for board in ("arduino_mega2560", "arduino_nano", "arduino_uno"):
        assert f"problem: {board} + serial_standard:" in result.stdout
    assert "bmcu_c + serial_standard" not in result.stdout


def test_check_passes_on_the_real_definitions() -> None:
    """`check` accepts the shipped definitions."""
    result = helpers.run_generator("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "all definitions are valid"


def test_cli_generate_json_success() -> None:
    """`generate --json` prints {success: true, data: {filename, content, ...}}."""
    result = helpers.run_generator("generate", "--board", "uno", "--transport", "serial_standard",
                                   "--commands", "GPIO_WRITE,dht_read", "--devices", "relay_module",
                                   "--set", "BAUD_RATE=57600", "--name", "cli", "--json")
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    expected = generate(uno("gpio_write", "dht_read", devices=("relay_module",), BAUD_RATE="57600"), "cli")
    assert reply["success"] is True
    assert reply["data"]["filename"] == "cli.ino"
    assert reply["data"]["content"] == expected.content
    assert reply["data"]["capabilities"] == ["DHT_READ", "GPIO_WRITE", "RELAY_SET"]


def test_cli_generate_json_failure() -> None:
    """`generate --json` prints {success: false, error} alone, and exits 1."""
    result = helpers.run_generator("generate", "--board", "uno", "--transport", "serial_standard",
                                   "--commands", "dht_raed", "--json")
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 1
    reply = json.loads(result.stdout)
    assert set(reply) == {"success", "error"}
    assert reply["success"] is False
    assert "unknown command 'dht_raed'" in reply["error"] and "did you mean 'dht_read'?" in reply["error"]
    assert "Traceback" not in result.stderr


def test_cli_generate_writes_the_sketch(tmp_path: Path) -> None:
    """`generate -o DIR` writes DIR/<name>.ino and says so."""
    result = helpers.run_generator("generate", "--board", "bmcu_c", "--transport", "serial_standard",
                                   "--commands", "gpio_read", "--name", "bm", "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    written = tmp_path / "out" / "bm.ino"
    assert written.read_text(encoding="utf-8") == generate(
        Selection(board="bmcu_c", transport="serial_standard", commands=("gpio_read",)), "bm").content
    assert str(written) in result.stdout and "GPIO_READ" in result.stdout


def test_cli_generate_error_writes_nothing(tmp_path: Path) -> None:
    """An error prints `error: ...` without traceback and writes no file."""
    result = helpers.run_generator("generate", "--board", "uno", "--transport", "wifi_tcp",
                                   "--set", "WIFI_SSID=x", "-o", str(tmp_path / "out"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: transport 'wifi_tcp' has no code for board 'arduino_uno'")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_cli_list() -> None:
    """`list` shows every definition, with architectures, settings and device commands."""
    result = helpers.run_generator("list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    sections = [line for line in lines if not line.startswith(" ")]
    assert sections == ["boards:", "transports:", "commands:", "devices:"]
    rows = {line.split()[0]: line for line in lines if line.startswith("  ")}
    for kind in ("board", "transport", "command", "device"):
        for def_id in Definitions(helpers.DEFINITIONS).ids(kind):
            assert def_id in rows, f"{def_id} missing from `list`"
    assert "[avr]" in rows["arduino_uno"] and "uno" in rows["arduino_uno"]
    assert "[esp8266]" in rows["wifi_tcp"] and "WIFI_SSID" in rows["wifi_tcp"]
    assert rows["gpio_write"].rstrip().endswith("GPIO_WRITE <pin> <value> [avr, ch32v, esp8266]")
    assert "(system)" in rows["reset"] and "(system)" not in rows["gpio_write"]
    assert rows["relay_module"].rstrip().endswith("-> relay_set")
    assert rows["led_dimmer"].rstrip().endswith("-> pwm_write, gpio_write")


def test_cli_list_json(definitions_copy: Path) -> None:
    """`list --json` reads the folder it is given: an added command shows up with its arch."""
    add_command(definitions_copy, "esp_only", {"esp8266": "static void cmd_esp_only(const long* args) {}"})
    result = helpers.run_generator("list", "--json", "--definitions", str(definitions_copy))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    commands = {row["id"]: row for row in data["commands"]}
    assert commands["esp_only"]["architectures"] == ["esp8266"]
    assert commands["dht_read"]["architectures"] == ["avr", "ch32v", "esp8266"]
    assert {row["id"] for row in data["boards"]} == {"arduino_leonardo", "arduino_mega2560", "arduino_micro",
                                                    "arduino_nano", "arduino_pro_16mhz", "arduino_pro_8mhz",
                                                    "arduino_uno", "bmcu_c", "wemos_d1_mini"}
