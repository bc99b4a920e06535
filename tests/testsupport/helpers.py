"""Helpers for the tests and the benchmark: project copies, real `pio run`s, firmware inspection.

Everything here drives the real tools: copies of the project, `pio run` in those copies,
avr-size, Intel HEX files. Nothing fakes a result.
"""
from __future__ import annotations

import configparser
import functools
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.codegen.definitions import Definitions
from generator.codegen.resolve import resolve
from generator.codegen.selection import Selection
from generator.host.client import BoardClient
from generator.paths import DEFINITIONS, ROOT
from generator.protocol.catalogue import Catalogue
from generator.sim.board import ResetEvent, SimBoard

VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
PIO = str(VENV_BIN / "pio")

# What a PlatformIO project copy needs (the brief's list); src/ and .pio/ are never copied.
PROJECT_PARTS = ("platformio.ini", "definitions", "templates", "generator", "extra_scripts", "sim",
                 "platforms", "requirements-generator.txt")

INFO_PREFIX = b',"board":"'  # INFO's fields, printed after its reply's "cmd"
# The real cores (../shared/cores/README.md) beside the checkout (CI has them); FIRMWARE_SHARED_CORES
# names another place (a git worktree's checkout is one folder deeper).
SHARED_CORES = Path(os.environ.get("FIRMWARE_SHARED_CORES", ROOT.parent / "shared" / "cores"))
# An environment where any web request (PlatformIO's registry...) fails at once instead of waiting.
DEAD_PROXY = {name: "http://127.0.0.1:9" for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}


# ---- project copies ------------------------------------------------------------------------

def copy_tree(src: Path, dest: Path) -> None:
    """Copy a file or folder, leaving out Python caches."""
    if src.is_dir():
        shutil.copytree(src, dest, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        shutil.copy2(src, dest)


def write_user_command(root: Path, definition: dict[str, Any], code: str) -> None:
    """A command of the user's in a project copy: my_definitions/commands/<id>.json, and its C++
    in my_definitions/commands/src/<id>.cpp."""
    commands = root / "my_definitions" / "commands"
    (commands / "src").mkdir(parents=True, exist_ok=True)
    (commands / f"{definition['id']}.json").write_text(json.dumps(definition), encoding="utf-8")
    (commands / "src" / f"{definition['id']}.cpp").write_text(code, encoding="utf-8")


def copy_project(dest: Path) -> Path:
    """A fresh copy of the PlatformIO project at `dest` (created), without src/ and .pio/."""
    dest.mkdir(parents=True)
    for part in PROJECT_PARTS:
        copy_tree(ROOT / part, dest / part)
    return dest


def copy_definitions(dest: Path) -> Path:
    """A copy of definitions/ at `dest`, to break or extend without touching the real one."""
    copy_tree(DEFINITIONS, dest)
    return dest


def with_hardware_envs(dest: Path) -> Path:
    """The shipped platformio.ini in `dest` (created) with the hardware envs enabled as the README
    says (hardware.ini.example copied to hardware.ini); returns the platformio.ini path."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "platformio.ini", dest / "platformio.ini")
    shutil.copy2(ROOT / "hardware.ini.example", dest / "hardware.ini")
    return dest / "platformio.ini"


def read_ini(path: Path) -> configparser.ConfigParser:
    """platformio.ini as raw text values (no interpolation, keys kept as written)."""
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser


def set_envs(project: Path, envs: Mapping[str, Mapping[str, str]],
             defaults: Mapping[str, str] | None = None) -> None:
    """Rewrite the copy's platformio.ini: keep [platformio] and [env] (updated with `defaults`),
    replace every [env:*] by `envs` (env name -> options)."""
    parser = read_ini(project / "platformio.ini")
    for section in parser.sections():
        if section.startswith("env:"):
            parser.remove_section(section)
    parser["env"].update(defaults or {})
    if parser.get("platformio", "default_envs", fallback=None) not in envs:
        parser.remove_option("platformio", "default_envs")  # it would name a removed env
    for name, options in envs.items():
        parser[f"env:{name}"] = dict(options)
    buffer = io.StringIO()
    parser.write(buffer)
    (project / "platformio.ini").write_text(buffer.getvalue(), encoding="utf-8")


@functools.cache
def uno_catalogue() -> Catalogue:
    """The protocol catalogue of platformio.ini's uno env (its commands and devices), from this
    checkout's definitions."""
    selection = Selection(board="arduino_uno", transport="serial_standard",
                          commands=("gpio_write", "gpio_read", "analog_read"), devices=("dht22_sensor", "relay_module"))
    return resolve(Definitions(DEFINITIONS), selection).catalogue


def avr_env(pio_board: str, /, **firmware: str) -> dict[str, str]:
    """Options of an env on the offline AVR platform; `firmware` keys become custom_firmware_*."""
    options = {"platform": "symlink://platforms/avr-debian", "board": pio_board}
    options.update({f"custom_firmware_{key}": value for key, value in firmware.items()})
    return options


# ---- running PlatformIO --------------------------------------------------------------------

def real_core_dir() -> Path:
    """The PlatformIO core folder `make deps` filled (tool-scons lives there)."""
    return Path(os.environ.get("PLATFORMIO_CORE_DIR", Path.home() / ".platformio"))


def make_core_dir(core: Path) -> Path:
    """A private PlatformIO core folder sharing only the installed tool-scons.

    PlatformIO keeps ONE link per platform name (avr-debian.pio-link) in its core folder, so
    project copies sharing the user's core folder would build with whichever copy linked first,
    and leave the user's link pointing into a temporary folder. A private core per copy avoids
    both. Nothing else is copied: a fresh core folder is what PlatformIO starts from (its
    appstate.json, which remembers the last Core version that ran, is its own).
    """
    scons = real_core_dir() / "packages" / "tool-scons"
    if not (scons / "package.json").is_file():
        raise RuntimeError(f"{scons} is missing: run `make deps` first")
    (core / "packages").mkdir(parents=True, exist_ok=True)
    link = core / "packages" / "tool-scons"
    if not link.exists():
        link.symlink_to(scons)
    return core


def bare_penv(core: Path, version: str) -> Path:
    """VS Code's kind of PlatformIO: `<core>/penv`, a venv holding only PlatformIO Core `version`
    (as the extension's installer makes it); returns its bin folder."""
    subprocess.run([sys.executable, "-m", "venv", str(core / "penv")], check=True)
    subprocess.run([str(core / "penv" / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    f"platformio=={version}"], check=True, capture_output=True)
    return core / "penv" / "bin"


def core_dir_for(project: Path) -> Path:
    """The private core folder of a project copy, next to it."""
    return make_core_dir(project.with_name(project.name + "-pio-core"))


@dataclass
class PioResult:
    """One finished `pio` command: exit code, combined output and wall time."""

    returncode: int
    output: str
    seconds: float

    def compiled(self) -> list[str]:
        """The 'Compiling ...' lines: what SCons had to (re)compile."""
        return [line for line in self.output.splitlines() if line.startswith("Compiling ")]


def pio_environ(project: Path) -> dict[str, str]:
    """The environment `pio` runs with in a project copy: its private core folder."""
    env = {**os.environ, "PLATFORMIO_CORE_DIR": str(core_dir_for(project)),
           "PLATFORMIO_NO_ANSI": "true", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PLATFORMIO_BUILD_FLAGS", None)
    return env


def run_pio(project: Path, *args: str, timeout: float = 300) -> PioResult:
    """Run `pio <args>` in `project` with its private core folder; stdout and stderr merged."""
    env = pio_environ(project)
    start = time.perf_counter()
    proc = subprocess.run([PIO, *args], cwd=project, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False)
    return PioResult(proc.returncode, proc.stdout, time.perf_counter() - start)


def printed_serial_port(proc: subprocess.Popen[str], within: float = 120) -> str:
    """The pty a running `simulate` printed as "serial: /dev/pts/N" (its stdout, text)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line, "the simulation ended before printing its serial port"
        match = re.fullmatch(r"serial: (/dev/pts/\d+)\n", line)
        if match:
            return match.group(1)
    raise AssertionError(f"no serial port printed within {within:g} s")


def sketch_of(project: Path, env: str) -> Path:
    """Where the pre-script writes an env's sketch."""
    return project / "src" / env / f"{env}.ino"


def build_dir(project: Path, env: str) -> Path:
    """Where PlatformIO builds an env."""
    return project / ".pio" / "build" / env


@dataclass(frozen=True)
class FileState:
    """A file's bytes and modification time, to prove it was not rewritten."""

    data: bytes
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileState:
        """The current state of `path`."""
        return cls(path.read_bytes(), path.stat().st_mtime_ns)


def files_under(folder: Path) -> list[str]:
    """Every file (hidden ones too) below `folder`, relative and sorted; [] if it is absent."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() or p.is_symlink())


# ---- firmware images -----------------------------------------------------------------------

def read_intel_hex(path: Path) -> bytes:
    """The flash image of an Intel HEX file (data records, extended addresses), gaps as 0xFF."""
    memory: dict[int, int] = {}
    base = 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        if not line.startswith(":"):
            raise ValueError(f"{path}:{number}: not an Intel HEX record")
        record = bytes.fromhex(line[1:])
        if sum(record) & 0xFF:
            raise ValueError(f"{path}:{number}: bad checksum")
        count, address, kind, data = record[0], int.from_bytes(record[1:3], "big"), record[3], record[4:-1]
        if len(data) != count:
            raise ValueError(f"{path}:{number}: length mismatch")
        if kind == 0:
            for offset, byte in enumerate(data):
                memory[base + address + offset] = byte
        elif kind == 1:
            break
        elif kind == 2:
            base = int.from_bytes(data, "big") << 4
        elif kind == 4:
            base = int.from_bytes(data, "big") << 16
    if not memory:
        return b""
    image = bytearray(b"\xff" * (max(memory) + 1))
    for address, byte in memory.items():
        image[address] = byte
    return bytes(image)


def find_info_reply(image: bytes) -> dict[str, Any]:
    """The INFO fields stored in a firmware image (what follows "cmd"), parsed: exactly one must be there."""
    start = image.find(INFO_PREFIX)
    if start < 0:
        raise AssertionError("no INFO reply in the firmware image")
    if image.find(INFO_PREFIX, start + 1) >= 0:
        raise AssertionError("more than one INFO reply in the firmware image")
    end = image.index(b"\n", start)
    return json.loads(b"{" + image[start + 1:end])


def avr_size(elf: Path) -> dict[str, int]:
    """Section sizes from `avr-size -A`: {'.text': ..., '.data': ..., '.bss': ...}."""
    out = subprocess.run(["avr-size", "-A", str(elf)], capture_output=True, text=True, check=True).stdout
    sizes: dict[str, int] = {}
    for line in out.splitlines():
        match = re.match(r"^(\.\w+)\s+(\d+)\s+\d+", line)
        if match:
            sizes[match.group(1)] = int(match.group(2))
    return sizes


def flash_and_ram(elf: Path) -> tuple[int, int]:
    """(flash, static RAM) in bytes: .text+.data and .data+.bss."""
    sizes = avr_size(elf)
    return sizes.get(".text", 0) + sizes.get(".data", 0), sizes.get(".data", 0) + sizes.get(".bss", 0)


# ---- C string literals ---------------------------------------------------------------------

_C_ESCAPE = re.compile(r'\\([0-7]{1,3}|x[0-9a-fA-F]+|.)', re.S)
_SIMPLE = {"n": 10, "t": 9, "r": 13, "0": 0, "\\": 92, '"': 34, "'": 39, "?": 63, "a": 7, "b": 8,
           "f": 12, "v": 11}


def decode_c_literal(literal: str) -> bytes:
    """The bytes a C string literal ("...", with quotes) stands for. Independent of the
    generator's encoder: it follows the C rules for the escapes it meets."""
    if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
        raise ValueError(f"not a C string literal: {literal!r}")
    body = literal[1:-1]
    out = bytearray()
    pos = 0
    for match in _C_ESCAPE.finditer(body):
        chunk = body[pos:match.start()]
        if '"' in chunk:
            raise ValueError(f"unescaped quote in {literal!r}")
        out += chunk.encode("utf-8")
        code = match.group(1)
        if code[0] in "01234567":
            out.append(int(code, 8) & 0xFF)
        elif code[0] == "x":
            out.append(int(code[1:], 16) & 0xFF)
        else:
            out.append(_SIMPLE[code])
        pos = match.end()
    if '"' in body[pos:]:
        raise ValueError(f"unescaped quote in {literal!r}")
    out += body[pos:].encode("utf-8")
    return bytes(out)


def pins_with_flag(flag: str, content: str) -> set[int]:
    """Pins whose entry in a sketch's FW_PIN_FLAGS table holds `flag` (FW_PIN_RESERVED...)."""
    match = re.search(r"FW_PIN_FLAGS\[FW_PIN_COUNT\] FW_FLASH = \{\n(.*?)\n\};", content, re.S)
    assert match, "no FW_PIN_FLAGS table"
    entries = [entry.strip() for entry in match.group(1).replace("\n", " ").split(",") if entry.strip()]
    return {pin for pin, entry in enumerate(entries) if flag in entry.split(" | ")}


def info_reply_in_sketch(content: str) -> dict[str, Any]:
    """The INFO fields a sketch prints after its reply's "cmd", decoded from their F("...") literal."""
    match = re.search(r'fw_print\(F\((",\\"board\\":.*?(?<!\\)")\)\);', content)
    if not match:
        raise AssertionError("no INFO fields literal in the sketch")
    data = decode_c_literal(match.group(1))
    assert data.endswith(b"\n"), "the INFO reply must end its line"
    return json.loads(b"{" + data[1:])


def dispatch_names(content: str) -> list[str]:
    """The command names of a sketch's dispatch table, in table order."""
    return re.findall(r'static const char FW_NAME_\d+\[\] FW_FLASH = "(\w+)";', content)


# ---- the generator's own command line ------------------------------------------------------

def run_generator(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None
                  ) -> subprocess.CompletedProcess[str]:
    """`python -m generator <args>` in a fresh interpreter."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([PYTHON, "-m", "generator", *args], cwd=cwd or ROOT, env=full_env,
                          capture_output=True, text=True, timeout=120, check=False)


def non_system_commands(definitions: Path = DEFINITIONS, arch: str | None = None) -> list[str]:
    """Ids of every non-system command (with code for `arch`, if given), from the files."""
    ids = []
    for path in sorted((definitions / "commands").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("system"):
            continue
        if arch and not any(arch in block or "*" in block for block in data["code"].values()):
            continue
        ids.append(data["id"])
    return ids


# ---- the Arduino IDE's builder ------------------------------------------------------------

ARDUINO_HARDWARE = Path("/usr/share/arduino/hardware")
ARDUINO_BUILDER = Path("/usr/share/arduino-builder")


def arduino_builder(sketch: Path, fqbn: str, build: Path) -> subprocess.CompletedProcess[str]:
    """Compile a sketch folder as the Arduino IDE 1.8 does, with Debian's arduino-builder and AVR core.
    Debian's avr-gcc 5.4 with that core needs -DDECIMAL_DIG=__DECIMAL_DIG__ (its <float.h> lacks
    DECIMAL_DIG), passed as the IDE's compiler.cpp.extra_flags preference (README: "Arduino IDE")."""
    tool = shutil.which("arduino-builder")
    assert tool, "arduino-builder is missing: apt-get install arduino-builder arduino-ctags (make deps)"
    build.mkdir(parents=True)
    return subprocess.run(
        [tool, "-compile", "-hardware", str(ARDUINO_HARDWARE), "-hardware", str(ARDUINO_BUILDER),
         "-tools", str(ARDUINO_BUILDER), "-fqbn", fqbn, "-prefs=compiler.cpp.extra_flags=-DDECIMAL_DIG=__DECIMAL_DIG__",
         "-build-path", str(build), str(sketch)],
        capture_output=True, text=True, timeout=300, check=False)


class SimulatedBoard:
    """A simulated board running an ELF, and a protocol client on its serial port."""

    def __init__(self, sim: SimBoard, client: BoardClient) -> None:
        self.sim = sim
        self.client = client

    def ask(self, line: str) -> dict[str, Any]:
        return self.client.request(line)

    def reset(self) -> None:
        """RESET: its reply, the simulator's reset, then the board ready again."""
        since = self.sim.mark()
        assert self.ask("RESET") == {"ok": 1, "cmd": "RESET"}
        self.sim.wait_for(ResetEvent, since=since, timeout=5)
        self.client.wait_ready()
