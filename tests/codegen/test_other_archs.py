"""The ESP8266 and CH32V sketches, compiled by the host g++ against stub Arduino cores.

Their real toolchains and cores cannot be installed on the build machine, so these sketches
were only compared with golden files. Here each one is generated with every command its
architecture supports and compiled by the host g++ as C++ (to an object), with tests/codegen/arduino_api/<arch>/
first on the include path. Those stub headers declare the real cores' API with the real
signatures (see their README.md files), nothing more: a sketch that calls a function the core
lacks, or passes a wrong type, fails here. The tests after them prove that. Last, AVR
sketches get the same warning check with avr-g++ against Debian's Arduino AVR core.

What this does not prove: that the code links or runs, that the stubs' values (pin numbers,
enum values) are right, or anything about `int`/`long` widths (the host is LP64, both targets
are ILP32).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.codegen.selection import Selection
from generator.codegen.sketch import Sketch, generate
from testsupport import helpers

STUBS = Path(__file__).parent / "arduino_api"
GOLDEN = Path(__file__).parent / "golden"
SYSTEM = ("CATALOGUE", "CHECKSUM", "FRAMES", "INFO", "PING", "RESET")
# Every warning is an error: the generated code is small and must build warning-free. Compiled
# to an object (thrown away), not -fsyntax-only, which never reports unused static functions.
GXX_FLAGS = ("-std=gnu++17", "-c", "-o", "/dev/null", "-Wall", "-Wextra", "-Werror",
             "-fno-diagnostics-color", "-fmax-errors=20")
# Settings that stress the C string literal encoder (quotes, backslash, trigraph, non-ASCII).
SSID = 'Caf\u00e9 "Home" \\ ??= \u2615'
PASSWORD = '"); ESP.restart(); //'


@dataclass(frozen=True)
class Case:
    """One sketch to compile: a selection and the stub core (architecture) it targets."""

    arch: str
    selection: Selection


def all_commands(arch: str) -> tuple[str, ...]:
    """Every non-system command with code for `arch`, read from definitions/."""
    commands = tuple(helpers.non_system_commands(arch=arch))
    assert commands, f"no command supports {arch}"
    return commands


CASES: dict[str, Case] = {
    "d1_mini_wifi_tcp": Case("esp8266", Selection(
        board="wemos_d1_mini", transport="wifi_tcp", commands=all_commands("esp8266"),
        settings={"WIFI_SSID": SSID, "WIFI_PASSWORD": PASSWORD, "TCP_PORT": "4444",
                  "RELAY_ACTIVE_LOW": "true"})),
    "d1_mini_serial": Case("esp8266", Selection(
        board="wemos_d1_mini", transport="serial_standard", commands=all_commands("esp8266"),
        settings={"BAUD_RATE": "9600"})),
    "bmcu_c_serial": Case("ch32v", Selection(
        board="bmcu_c", transport="serial_standard", commands=all_commands("ch32v"))),
    "bmcu_c_usart3_rs485": Case("ch32v", Selection(
        board="bmcu_c", transport="serial_standard", commands=all_commands("ch32v"),
        settings={"SERIAL_PORT": "USART3", "RS485_DE_PIN": "12", "BAUD_RATE": "2000000"})),
    "d1_mini_serial_rs485": Case("esp8266", Selection(
        board="wemos_d1_mini", transport="serial_standard", commands=all_commands("esp8266"),
        settings={"RS485_DE_PIN": "5"})),
}
# The bmcu_c and nano envs' selection: no command replies with a string, so fw_reply_str must
# not be emitted (-Wunused-function); compiled like the cases above.
SMALL = {"bmcu_c_env": ("ch32v", Selection(board="bmcu_c", transport="serial_standard",
                                           commands=("gpio_write", "gpio_read", "analog_read"))),
         "d1_mini_one_command": ("esp8266", Selection(board="wemos_d1_mini", transport="wifi_tcp",
                                                      commands=("gpio_write",),
                                                      settings={"WIFI_SSID": "n", "WIFI_PASSWORD": ""}))}


def gxx() -> str:
    """The host C++ compiler; its absence is a failure, not a skip."""
    path = shutil.which("g++")
    assert path, "g++ is missing: install Debian's g++ to run these checks"
    return path


def compile_sketch(arch: str, sketch: Path) -> subprocess.CompletedProcess[str]:
    """The host g++ compiling a .ino as C++ against the `arch` stub core; never raises."""
    stub = STUBS / arch
    assert (stub / "Arduino.h").is_file(), f"no stub core at {stub}"
    env = {**os.environ, "LC_ALL": "C"}  # English diagnostics, matched below
    return subprocess.run([gxx(), *GXX_FLAGS, "-I", str(stub), "-x", "c++", str(sketch)],
                          capture_output=True, text=True, timeout=60, env=env, check=False)


def write_sketch(folder: Path, name: str, content: str) -> Path:
    """Write `content` as <folder>/<name>.ino."""
    path = folder / f"{name}.ino"
    path.write_text(content, encoding="utf-8")
    return path


def inject(content: str, line: str, where: str = "setup") -> str:
    """The sketch with `line` added as the first statement of setup(), or before setup()."""
    anchor = "void setup() {\n"
    assert content.count(anchor) == 1, "setup() not found once in the sketch"
    if where == "setup":
        return content.replace(anchor, f"{anchor}  {line}\n")
    return content.replace(anchor, f"{line}\n\n{anchor}")


@pytest.fixture(scope="module")
def sketches() -> dict[str, Sketch]:
    """Each case generated once from the real definitions."""
    return {name: generate(case.selection, name) for name, case in CASES.items()}


# ---- the generated sketches compile --------------------------------------------------------

@pytest.mark.parametrize("name", CASES)
def test_sketch_has_every_command(sketches: dict[str, Sketch], name: str) -> None:
    """The compiled sketch really holds every command the architecture supports, plus the
    system ones, so the compile test below covers all of their code."""
    arch = CASES[name].arch
    sketch = sketches[name]
    expected = sorted(c.upper() for c in all_commands(arch))
    assert sketch.capabilities == expected
    assert sorted(helpers.dispatch_names(sketch.content)) == sorted([*expected, *SYSTEM])
    assert f"({arch})" in sketch.content.splitlines()[2]


@pytest.mark.parametrize("name", CASES)
def test_sketch_compiles_against_its_core(sketches: dict[str, Sketch], name: str,
                                          tmp_path: Path) -> None:
    """g++ accepts the sketch with -Wall -Wextra -Werror against the real core's API."""
    path = write_sketch(tmp_path, name, sketches[name].content)
    result = compile_sketch(CASES[name].arch, path)
    assert result.returncode == 0, f"{name} does not compile:\n{result.stderr}"
    assert result.stderr == ""


@pytest.mark.parametrize("name", SMALL)
def test_small_selection_compiles_without_unused_helpers(name: str, tmp_path: Path) -> None:
    """Helpers the selection does not call are left out, so -Wall -Wextra -Werror passes."""
    arch, selection = SMALL[name]
    sketch = generate(selection, name)
    assert "fw_reply_str" not in sketch.content
    result = compile_sketch(arch, write_sketch(tmp_path, name, sketch.content))
    assert result.returncode == 0 and result.stderr == "", result.stderr


@pytest.mark.parametrize(("golden", "arch"), [("d1_mini_wifi_tcp", "esp8266"),
                                              ("bmcu_c_serial", "ch32v")])
def test_golden_sketch_compiles(golden: str, arch: str) -> None:
    """The reviewed golden files of test_generate.py compile too."""
    result = compile_sketch(arch, GOLDEN / f"{golden}.ino")
    assert result.returncode == 0, f"{golden}.ino does not compile:\n{result.stderr}"


@pytest.mark.parametrize("name", CASES)
def test_stub_core_is_the_one_used(sketches: dict[str, Sketch], name: str, tmp_path: Path) -> None:
    """Every header the sketch names resolves to the stub folder, never to another core on
    this machine (such as Debian's Arduino AVR core)."""
    arch = CASES[name].arch
    path = write_sketch(tmp_path, name, sketches[name].content)
    deps = subprocess.run([gxx(), "-std=gnu++17", "-x", "c++", "-M", "-I", str(STUBS / arch),
                           str(path)], capture_output=True, text=True, timeout=60, check=True)
    files = [Path(f) for f in deps.stdout.replace("\\\n", " ").split()[1:]]
    included = re.findall(r"^#include <(\w+\.h)>", sketches[name].content, re.M)
    assert "Arduino.h" in included
    for header in included:
        resolved = [f for f in files if f.name == header]
        assert resolved and all(f.resolve().is_relative_to(STUBS / arch) for f in resolved), \
            f"{header} does not come from {STUBS / arch}: {resolved}"
    assert not any("arduino" in str(f).lower() and not f.resolve().is_relative_to(STUBS)
                   for f in files), "a header from a real Arduino core was used"


# ---- the check can fail ------------------------------------------------------------------

BAD_CODE = [
    # (case, line, where, what g++ must say)
    pytest.param("d1_mini_wifi_tcp", 'WiFi.connectTo("net", "secret");', "setup",
                 "has no member named 'connectTo'", id="esp8266-missing-wifi-method"),
    pytest.param("d1_mini_serial", "Serial.printx(1);", "setup",
                 "has no member named 'printx'", id="esp8266-missing-serial-method"),
    pytest.param("d1_mini_wifi_tcp", 'WiFi.mode("sta");', "setup",
                 "cannot convert 'const char [4]' to 'WiFiMode_t'", id="esp8266-wrong-argument-type"),
    pytest.param("d1_mini_wifi_tcp", "WiFiClient old = wifi_tcp_server.available();", "setup",
                 "deprecated", id="esp8266-deprecated-available"),
    pytest.param("d1_mini_serial", "NVIC_SystemReset();", "setup",
                 "'NVIC_SystemReset' was not declared", id="esp8266-ch32v-only-function"),
    pytest.param("d1_mini_serial", 'static const __FlashStringHelper* fw_bad = F("x");', "global",
                 "statement-expressions are not allowed outside functions",
                 id="esp8266-F-outside-function"),
    pytest.param("bmcu_c_serial", "ESP.restart();", "setup",
                 "'ESP' was not declared", id="ch32v-esp8266-only-object"),
    pytest.param("bmcu_c_serial", "analogWriteRange(255);", "setup",
                 "'analogWriteRange' was not declared", id="ch32v-esp8266-only-function"),
    pytest.param("bmcu_c_serial", "boolean fw_flag = true; (void)fw_flag;", "setup",
                 "deprecated", id="ch32v-deprecated-boolean"),
    pytest.param("bmcu_c_serial", "Serial.begin(115200, SERIAL_8N1, 1);", "setup",
                 "no matching function", id="ch32v-wrong-argument-count"),
    pytest.param("bmcu_c_serial", "NVIC_SystemReset(1);", "setup",
                 "too many arguments to function", id="ch32v-wrong-argument-count-c"),
]


@pytest.mark.parametrize(("name", "line", "where", "message"), BAD_CODE)
def test_compiler_rejects_what_the_core_lacks(sketches: dict[str, Sketch], tmp_path: Path,
                                              name: str, line: str, where: str,
                                              message: str) -> None:
    """One line the real core rejects (or, for deprecated API, warns about), added to a sketch
    that compiles, makes g++ fail with the expected diagnostic."""
    path = write_sketch(tmp_path, name, inject(sketches[name].content, line, where))
    result = compile_sketch(CASES[name].arch, path)
    assert result.returncode != 0, f"g++ accepted: {line}"
    assert message in result.stderr, result.stderr


@pytest.mark.parametrize(("name", "file"), [("d1_mini_serial", "dht_read_generic.cpp"),
                                            ("bmcu_c_serial", "dht_read_ch32v.cpp")])
def test_typo_in_command_code_is_caught(definitions_copy: Path, tmp_path: Path, name: str, file: str) -> None:
    """A misspelt core function in a command's source file (the DHT pulse timing of the
    architecture) still generates, and g++ names it."""
    source = definitions_copy / "commands" / "src" / file
    text = source.read_text(encoding="utf-8")
    assert "digitalRead(dht_pin)" in text
    source.write_text(text.replace("digitalRead(dht_pin)", "digitalReed(dht_pin)"), encoding="utf-8")

    case = CASES[name]
    selection = Selection(board=case.selection.board, transport=case.selection.transport,
                          commands=("dht_read",), settings=dict(case.selection.settings))
    sketch = generate(selection, name, definitions=definitions_copy)
    assert "digitalReed(dht_pin)" in sketch.content

    result = compile_sketch(case.arch, write_sketch(tmp_path, name, sketch.content))
    assert result.returncode != 0, "g++ accepted digitalReed"
    assert "'digitalReed' was not declared in this scope" in result.stderr, result.stderr


# ---- AVR: the same warning check with the real compiler and core (Debian's avr-gcc, Arduino AVR core)

AVR_CORE = Path("/usr/share/arduino/hardware/arduino/avr")
AVR_CASES = {
    "uno_all_rs485": ("atmega328p", "standard", Selection(
        board="uno", transport="serial_standard", commands=all_commands("avr"), settings={"RS485_DE_PIN": "2"})),
    "nano_env": ("atmega328p", "eightanaloginputs", Selection(
        board="nanoatmega328", transport="serial_standard", commands=("gpio_read", "analog_read"),
        devices=("relay_module", "led_dimmer"))),
    "mega_serial1": ("atmega2560", "mega", Selection(
        board="megaatmega2560", transport="serial_standard", commands=all_commands("avr"),
        settings={"SERIAL_PORT": "Serial1"})),
}


@pytest.mark.parametrize("name", AVR_CASES)
def test_avr_sketch_has_no_warning(name: str, tmp_path: Path) -> None:
    """avr-g++ -Wall -Wextra against the AVR core: no diagnostic in the sketch's own lines."""
    compiler = shutil.which("avr-g++")
    assert compiler and (AVR_CORE / "cores" / "arduino" / "Arduino.h").is_file(), "gcc-avr/arduino-core-avr missing"
    mcu, variant, selection = AVR_CASES[name]
    ino = write_sketch(tmp_path, name, generate(selection, name).content)
    unit = tmp_path / f"{name}.cpp"
    unit.write_text(f'#include <Arduino.h>\n#line 1 "{ino}"\n' + ino.read_text(encoding="utf-8"), encoding="utf-8")
    result = subprocess.run([compiler, f"-mmcu={mcu}", "-DF_CPU=16000000L", "-DARDUINO=10808", "-DARDUINO_ARCH_AVR",
                             "-DDECIMAL_DIG=__DECIMAL_DIG__", "-Os", "-std=gnu++11", "-fno-exceptions", "-Wall",
                             "-Wextra", "-I", str(AVR_CORE / "cores" / "arduino"),
                             "-I", str(AVR_CORE / "variants" / variant), "-c", str(unit), "-o", str(tmp_path / "o.o")],
                            capture_output=True, text=True, timeout=120, env={**os.environ, "LC_ALL": "C"}, check=False)
    assert result.returncode == 0, result.stderr
    own = [line for line in result.stderr.splitlines() if line.startswith(f"{ino}:")]
    assert own == [], "\n".join(own)
