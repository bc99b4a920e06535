#!/usr/bin/env python3
"""Benchmarks of the firmware generator and its firmware: prints one table of goal vs measured value.

    .venv/bin/python bench/run.py [--only generation,noop_build,size,selection_sizes,latency,wire,wifi_key]
                                  [--rounds 7] [--keep]

StandardFirmata in the wire and cycles groups needs its source, which neither Debian nor PyPI
ships: with `--firmata DIR`, DIR holds two Arduino libraries, `Firmata/` (github.com/firmata/arduino
at tag 2.5.9) and `Servo/` (github.com/arduino-libraries/Servo). It is built for the benchmark only;
the cycles group then also gives `firmata_cycles.<CMD>` (FIRMATA_REQUESTS: Firmata's counterpart
of each of our commands, its analog sampling interval set to its least, 1 ms).

Nothing here passes or fails: the table is for people. To add rows, write a function taking the
shared `Context` and returning a list of `Row`, and append it to `ROWS` (or decorate it with
@group). `Context.uno_project()` gives a built copy of the project (real platformio.ini, default
env uno) that several groups can share.
"""
from __future__ import annotations

import argparse
import compileall
import contextlib
import functools
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import serial

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "tests")]

from generator.boards import board_facts
from generator.codegen import Selection, generate
from generator.host.client import BoardClient
from generator.paths import ROOT, stamp_path
from generator.pioenv.envsketch import Stamp
from generator.sim.board import LatencyEvent, SimBoard, board_simulator
from testsupport import ch32build, helpers


@dataclass
class Row:
    """One line of the table. `ok` is None for rows without a goal."""

    group: str
    what: str
    goal: str
    measured: str
    ok: bool | None = None


@dataclass
class Context:
    """What groups share: a scratch folder, run counts, and a lazily built project copy."""

    work: Path
    rounds: int
    firmata: Path | None = None  # --firmata: a folder holding the Firmata 2.5.9 and Servo libraries
    figures: dict[str, object] = field(default_factory=dict)  # what --json prints
    _uno: Path | None = field(default=None, repr=False)

    def uno_project(self) -> Path:
        """A copy of the project with its real platformio.ini, `pio run -e uno` done once."""
        if self._uno is None:
            project = helpers.copy_project(self.work / "generated")
            result = helpers.run_pio(project, "run", "-e", "uno")
            if result.returncode != 0:
                raise RuntimeError(f"pio run -e uno failed:\n{result.output[-3000:]}")
            self._uno = project
        return self._uno


Group = Callable[[Context], list[Row]]
ROWS: list[Group] = []


def group(func: Group) -> Group:
    """Register a row group, in table order."""
    ROWS.append(func)
    return func


def median_ms(samples: list[float]) -> float:
    """Median of samples in seconds, as milliseconds."""
    return statistics.median(samples) * 1000


# ---- (a) generation time ------------------------------------------------------------------------

SYNTHETIC = 200
SIZES = (1, 10, 50, 200)
GENERATION_GOAL_MS = 100.0


def write_synthetic_commands(definitions: Path, count: int) -> list[str]:
    """`count` schema-valid commands with two arguments and their own handler; returns their ids."""
    ids = []
    for index in range(count):
        command_id = f"syn_{index:03d}"
        ids.append(command_id)
        (definitions / "commands" / f"{command_id}.json").write_text(json.dumps({
            "$schema": "../schemas/command.schema.json", "id": command_id,
            "description": f"Synthetic command {index} for the benchmark.",
            "args": [{"name": "pin", "type": "pin", "description": "A pin."},
                     {"name": "value", "type": "integer", "minimum": 0, "maximum": 255, "description": "A value."}],
            "reply": ["pin", "value"],
            "code": {"functions": {"*": f"@file:commands/src/{command_id}.cpp"}},
        }, indent=1), encoding="utf-8")
        (definitions / "commands" / "src" / f"{command_id}.cpp").write_text(
            f"static void cmd_{command_id}(const long* args) {{\n"
            f"  fw_reply_{command_id}(args[0], args[1] + {index});\n}}\n", encoding="utf-8")
    return ids


def time_generation(ctx: Context, selection: Selection, definitions: Path) -> float:
    """Median ms of CPU time (this process) of generate() after one warm-up; each call builds a
    fresh Definitions, as a build does (parse and validate the files it needs, render)."""
    generate(selection, "bench", definitions)
    samples = []
    for _ in range(ctx.rounds):
        start = time.process_time()
        generate(selection, "bench", definitions)
        samples.append(time.process_time() - start)
    return median_ms(samples)


@group
def generation(ctx: Context) -> list[Row]:
    """generate() for 1..200 synthetic commands on uno, in two folders: one holding all 200
    synthetic commands (the cost of a large folder), one holding only the selected ones."""
    full = helpers.copy_definitions(ctx.work / "definitions-all")
    ids = write_synthetic_commands(full, SYNTHETIC)
    rows = []
    for label in (f"{SYNTHETIC} in folder", "only those in folder"):
        previous: tuple[int, float] | None = None
        for size in SIZES:
            definitions = full
            if label.startswith("only"):
                definitions = helpers.copy_definitions(ctx.work / f"definitions-{size}")
                write_synthetic_commands(definitions, size)
            selection = Selection(board="uno", transport="serial_standard", commands=tuple(ids[:size]))
            ms = time_generation(ctx, selection, definitions)
            marginal = ""
            if previous:
                marginal = f"; +{(ms - previous[1]) / (size - previous[0]):.2f} ms/cmd over {previous[0]}"
            last = size == SIZES[-1]
            if last and not label.startswith("only"):
                ctx.figures["generate_ms"] = {f"{size}_commands": round(ms, 1)}
            rows.append(Row("generation", f"{size} commands ({label})",
                            f"<= {GENERATION_GOAL_MS:.0f} ms" if last else "linear",
                            f"{ms:.1f} ms ({ms / size:.2f} ms/cmd{marginal})",
                            ms <= GENERATION_GOAL_MS if last else None))
            previous = (size, ms)
    return rows


# ---- (b) no-op pio run: pre-script vs static sketch ---------------------------------------------

NOOP_GOAL = 1.03
STATIC_INI = ("[platformio]\ndefault_envs = uno\n\n[env:uno]\nplatform = symlink://platforms/avr-debian\n"
              "board = uno\nframework = arduino\n")


def static_project(folder: Path, platforms: Path, filename: str, content: str) -> Path:
    """A project without the pre-script whose src/ holds one fixed file, built once."""
    folder.mkdir(parents=True)
    shutil.copytree(platforms, folder / "platforms", symlinks=True)
    (folder / "platformio.ini").write_text(STATIC_INI, encoding="utf-8")
    (folder / "src").mkdir()
    (folder / "src" / filename).write_text(content, encoding="utf-8")
    result = helpers.run_pio(folder, "run", "-e", "uno")
    if result.returncode != 0:
        raise RuntimeError(f"static build in {folder} failed:\n{result.output[-3000:]}")
    return folder


@group
def noop_build(ctx: Context) -> list[Row]:
    """`pio run -e uno` with nothing to do, timed in alternation (rotating order each round)
    against the same sketch kept static: as src/uno.ino (PlatformIO converts and recompiles
    it on every run) and as src/uno.cpp (the strict baseline: nothing recompiled). PlatformIO's
    telemetry is off for these runs: it posts as pio exits and waits up to a second for the post,
    which offline is 0.2 to 1 s of every run, alike for the three projects; it only added noise
    and diluted the ratio."""
    with mock.patch.dict(os.environ, PLATFORMIO_SETTING_ENABLE_TELEMETRY="No"):
        return _noop_rows(ctx)


def _noop_rows(ctx: Context) -> list[Row]:
    generated = ctx.uno_project()
    # A project's first build leaves the generator's modules compiled in __pycache__ (pip compiles
    # them when it installs the package); this copy has none, and pio runs here with
    # PYTHONDONTWRITEBYTECODE (helpers.pio_environ), so every timed run would compile them again.
    compileall.compile_dir(generated / "generator", quiet=1)
    ino = helpers.sketch_of(generated, "uno").read_text(encoding="utf-8")
    projects = {
        "pre-script": generated,
        "static .ino": static_project(ctx.work / "static_ino", generated / "platforms", "uno.ino", ino),
        "static .cpp": static_project(ctx.work / "static_cpp", generated / "platforms", "uno.cpp",
                                      "#include <Arduino.h>\n" + ino),
    }
    times: dict[str, list[float]] = {name: [] for name in projects}
    compiled: dict[str, int] = {name: 0 for name in projects}
    names = list(projects)
    for name in names:                      # warm-up: caches, first no-op
        helpers.run_pio(projects[name], "run", "-e", "uno")
    for round_index in range(ctx.rounds):
        order = names[round_index % len(names):] + names[:round_index % len(names)]
        for name in order:
            result = helpers.run_pio(projects[name], "run", "-e", "uno")
            if result.returncode != 0:
                raise RuntimeError(f"{name}: pio run failed:\n{result.output[-3000:]}")
            times[name].append(result.seconds)
            compiled[name] += len(result.compiled())
    med = {name: median_ms(samples) for name, samples in times.items()}
    rows = [Row("noop_build", f"{name}: median of {ctx.rounds}", "",
                f"{med[name]:.0f} ms ({compiled[name] / ctx.rounds:.0f} files compiled per run)")
            for name in names]
    for baseline in ("static .ino", "static .cpp"):
        ratio = med["pre-script"] / med[baseline]
        if baseline == "static .cpp":
            # the pre-script's fastest and slowest run over the baseline's median (times are in s, med in ms)
            spread = [round(extreme(times["pre-script"]) * 1000 / med[baseline], 3) for extreme in (min, max)]
            ctx.figures.update(noop_ratio=round(ratio, 3), noop_ratio_spread=spread)
        rows.append(Row("noop_build", f"ratio pre-script / {baseline}", f"<= {NOOP_GOAL}",
                        f"{ratio:.3f}", ratio <= NOOP_GOAL))
    return rows


# ---- (c) flash and RAM of the default uno selection ----------------------------------------------

FLASH_GOAL = 8 * 1024
RAM_GOAL = 512


@group
def size(ctx: Context) -> list[Row]:
    """avr-size -A of the default env's firmware.elf: flash = .text+.data, RAM = .data+.bss."""
    elf = helpers.build_dir(ctx.uno_project(), "uno") / "firmware.elf"
    flash, ram = helpers.flash_and_ram(elf)
    stamp = Stamp.load(stamp_path(helpers.build_dir(ctx.uno_project(), "uno")))
    caps = stamp.capabilities if stamp else []
    what = f"uno default ({', '.join(caps)})"
    return [Row("size", f"flash, {what}", f"<= {FLASH_GOAL} B", f"{flash} B", flash <= FLASH_GOAL),
            Row("size", "static RAM (.data+.bss)", f"<= {RAM_GOAL} B", f"{ram} B", ram <= RAM_GOAL)]


# ---- (d) flash and RAM of several selections (simulator issue) ----------------------------------

ALL_COMMANDS = "gpio_write, gpio_read, analog_read, pwm_write, relay_set, dht_read"
SELECTIONS = {
    "uno_system_only": helpers.avr_env("uno", transport="serial_standard"),
    "uno_gpio": helpers.avr_env("uno", transport="serial_standard", commands="gpio_write, gpio_read"),
    "uno_all": helpers.avr_env("uno", transport="serial_standard", commands=ALL_COMMANDS),
    "mega_gpio": helpers.avr_env("megaatmega2560", transport="serial_standard", commands="gpio_write, gpio_read"),
    "mega_all": helpers.avr_env("megaatmega2560", transport="serial_standard", commands=ALL_COMMANDS),
    "uno_all_1mbaud": helpers.avr_env("uno", transport="serial_standard", commands=ALL_COMMANDS, baud_rate="1000000"),
}


def selections_project(ctx: Context) -> Path:
    """A project copy with one env per entry of SELECTIONS, built once."""
    project = ctx.work / "selections"
    if not project.exists():
        helpers.copy_project(project)
        helpers.set_envs(project, SELECTIONS)
        result = helpers.run_pio(project, "run", *[a for env in SELECTIONS for a in ("-e", env)])
        if result.returncode != 0:
            raise RuntimeError(f"pio run failed:\n{result.output[-3000:]}")
    return project


@group
def selection_sizes(ctx: Context) -> list[Row]:
    """Flash and static RAM of each selection, from avr-size -A of its ELF."""
    project = selections_project(ctx)
    rows = []
    for env, options in SELECTIONS.items():
        flash, ram = helpers.flash_and_ram(helpers.build_dir(project, env) / "firmware.elf")
        commands = options.get("custom_firmware_commands", "(system commands only)")
        rows.append(Row("sizes", f"{env}: {commands}", "", f"flash {flash} B, RAM {ram} B"))
    return rows


# ---- (e) reply latency in simulated CPU cycles -------------------------------------------------

LATENCY_GOAL = 2000
LATENCY_REQUESTS = {"PING": True, "INFO": True, "GPIO_READ 7": False, "DHT_READ 2": False}


@group
def latency(ctx: Context) -> list[Row]:
    """Cycles from a request's last byte ('\\n' received) to the reply's first byte, on the
    simulated uno running every command; min/median/max over repeated requests, because the
    figure depends on where the firmware's loop is when the byte lands."""
    build = helpers.build_dir(selections_project(ctx), "uno_all")
    elf = build / "firmware.elf"
    stamp = Stamp.load(stamp_path(build))
    assert stamp and stamp.baud_rate, f"{build} holds no record of its sketch"
    uno, baud = board_facts(stamp.identity.board), stamp.baud_rate
    rows = []
    with SimBoard(elf, uno.simulated().mcu, uno.f_cpu, latency=True) as sim:
        sim.attach_dht(uno.simulated().ports[2], "dht22", 21.5, 40.0)
        with BoardClient(sim.serial_port, baud) as client:
            client.wait_ready()
            for request, has_goal in LATENCY_REQUESTS.items():
                cycles = []
                for _ in range(max(ctx.rounds, 5) * 3):
                    since = sim.mark()
                    client.request(request)
                    cycles.append(sim.wait_for(LatencyEvent, since=since, timeout=5).cycles)
                worst = max(cycles)
                mhz = uno.f_cpu // 1_000_000
                measured = (f"min {min(cycles)}, median {int(statistics.median(cycles))}, max {worst} cycles "
                            f"({worst / mhz:.0f} us at {mhz} MHz)")
                rows.append(Row("latency", f"{request} (uno, {len(cycles)} requests)",
                                f"<= {LATENCY_GOAL} cycles" if has_goal else "", measured,
                                worst <= LATENCY_GOAL if has_goal else None))
    byte_s = 10 / baud
    rows.append(Row("latency", f"one byte on the wire at {baud} baud", "",
                    f"{byte_s * 1e6:.1f} us ({byte_s * uno.f_cpu:.0f} cycles)"))
    return rows


@group
def bmcu_latency(ctx: Context) -> list[Row]:
    """The same latency on the simulated BMCU-C (CH32V203 at 144 MHz, Unicorn), its firmware
    linked against each real CH32 core from ../shared/cores/ (one cycle per instruction: the chip
    itself is somewhat slower; resolution 50 cycles), as text lines, then as frames (the requests
    that have a frame form). The shipped core's medians are also `bmcu_text_cycles.<request>` and
    `bmcu_frame_cycles.<request>` in the JSON. Skipped where those cores are absent."""
    if (why := ch32build.missing()) is not None:
        return [Row("bmcu_latency", "BMCU-C reply latency", "", f"skipped: {why}")]
    bmcu = board_facts("bmcu_c")
    mhz = bmcu.f_cpu // 1_000_000
    rows = []
    medians: dict[str, dict[str, int]] = {"text": {}, "frame": {}}  # the shipped core's
    for core in ch32build.CORES:
        elf = ch32build.firmware(core, ALL_COMMANDS, RS485_DE_PIN="12")
        with board_simulator(elf, bmcu, latency=True) as sim:
            sim.attach_dht(bmcu.simulated().ports[2], "dht22", 21.5, 40.0)
            with BoardClient(sim.serial_port, 115200, timeout=10) as client:
                client.wait_ready(within=30)
                for mode, figures in medians.items():
                    client.info(compact=mode == "frame")
                    for request in LATENCY_REQUESTS:
                        if mode == "frame" and client.prepare(request).form is None:
                            continue
                        cycles = latencies(sim, functools.partial(client.request, request), max(ctx.rounds, 5),
                                           timeout=10)
                        if core == ch32build.CORES[0]:
                            figures[request] = int(statistics.median(cycles))
                        rows.append(Row("bmcu_latency", f"{request}, {mode} (bmcu_c, {core}, {len(cycles)} requests)",
                                        "", f"min {min(cycles)}, median {int(statistics.median(cycles))}, max "
                                        f"{max(cycles)} cycles ({max(cycles) / mhz:.0f} us at {mhz} MHz)"))
    ctx.figures.update(bmcu_text_cycles=medians["text"], bmcu_frame_cycles=medians["frame"])
    return rows


# ---- (f) round trips and throughput on the wire: JSON vs compact replies --------------------------

WIRE_ENVS = ("uno_all", "uno_all_1mbaud")
WIRE_REQUESTS = {"GPIO_WRITE 13 1": 1.4, "GPIO_READ 7": 0.56, "ANALOG_READ A0": 0.73}  # StandardFirmata 2.5.9, ms
PIPELINE_GOAL = 0.9
PIPELINED = 1000  # enough that the first round trip and the last replies hardly count


FIRMATA_INI = ("[env:firmata]\nplatform = symlink://platforms/avr-debian\nboard = uno\nframework = arduino\n"
               "lib_extra_dirs = {libs}\n")


# StandardFirmata.ino's lines firmata_elf changes, and what into. setFirmwareVersion() passes __FILE__,
# the sketch's full path, which would put the scratch folder's path (TMPDIR) into the ELF and the
# cycles of its parsing at boot into every later figure; the name it reports is the same.
FIRMATA_EDITS = {
    "Firmata.begin(57600);": "Firmata.begin({baud});",
    "Firmata.setFirmwareVersion(FIRMATA_FIRMWARE_MAJOR_VERSION, FIRMATA_FIRMWARE_MINOR_VERSION);":
        'Firmata.setFirmwareNameAndVersion("StandardFirmata.ino", FIRMATA_FIRMWARE_MAJOR_VERSION, '
        "FIRMATA_FIRMWARE_MINOR_VERSION);",
}


def firmata_elf(ctx: Context, baud: int) -> Path:
    """StandardFirmata 2.5.9 from --firmata's libraries, at `baud` instead of its 57600 and the same
    wherever it is built (FIRMATA_EDITS), built with this project's offline AVR platform (for the
    benchmark only: never shipped)."""
    assert ctx.firmata is not None
    project = ctx.work / "firmata"
    if not project.exists():
        (project / "src").mkdir(parents=True)
        shutil.copytree(ROOT / "platforms", project / "platforms", symlinks=True)
        (project / "platformio.ini").write_text(FIRMATA_INI.format(libs=ctx.firmata.resolve()), encoding="utf-8")
        sketch = (ctx.firmata / "Firmata" / "examples" / "StandardFirmata" / "StandardFirmata.ino").read_text(
            encoding="utf-8")
        for line, edited in FIRMATA_EDITS.items():
            if sketch.count(line) != 1:
                raise RuntimeError(f"{ctx.firmata}: StandardFirmata.ino has not one `{line}` (not 2.5.9?)")
            sketch = sketch.replace(line, edited.format(baud=baud))
        (project / "src" / "StandardFirmata.ino").write_text(sketch, encoding="utf-8")
        result = helpers.run_pio(project, "run")
        if result.returncode != 0:
            raise RuntimeError(f"StandardFirmata did not build:\n{result.output[-3000:]}")
    return helpers.build_dir(project, "firmata") / "firmware.elf"


FIRMATA_SAMPLING_MS = 1  # StandardFirmata 2.5.9's MINIMUM_SAMPLING_INTERVAL (its default samplingInterval is 19 ms)
# What a host sets up first: pin 13 an output and pin 7 an input (SET_PIN_MODE), analog pins sampled every
# FIRMATA_SAMPLING_MS (the SAMPLING_INTERVAL sysex, 14 bits in two 7-bit bytes).
FIRMATA_SETUP = bytes([0xF4, 13, 1, 0xF4, 7, 0, 0xF0, 0x7A, FIRMATA_SAMPLING_MS, 0, 0xF7])
FIRMATA_VERSION = b"\xf9\x02\x05"  # REPORT_VERSION's reply: protocol 2.5


@dataclass(frozen=True)
class FirmataRequest:
    """StandardFirmata's counterpart of one of our commands, each answered at once (StandardFirmata.ino
    2.5.9): what the host sends, how the reply starts and its length, and what the host sends after
    the reply (outside any timed span) so that nothing arrives unasked."""

    what: str
    send: bytes
    reply: bytes
    length: int
    after: bytes = b""


FIRMATA_REQUESTS = {
    "GPIO_READ": FirmataRequest("REPORT_DIGITAL port 0 on -> DIGITAL_MESSAGE port 0 (reportDigitalCallback), "
                                "then off", bytes([0xD0, 1]), b"\x90", 3, bytes([0xD0, 0])),
    "GPIO_WRITE": FirmataRequest("SET_DIGITAL_PIN_VALUE 13 1, PIN_STATE_QUERY 13 -> PIN_STATE_RESPONSE",
                                 bytes([0xF5, 13, 1, 0xF0, 0x6D, 13, 0xF7]), b"\xf0\x6e\x0d\x01\x01\xf7", 6),
    "ANALOG_READ": FirmataRequest(f"REPORT_ANALOG A0 on -> ANALOG_MESSAGE A0 (reportAnalogCallback), then off; "
                                  f"sampling interval {FIRMATA_SAMPLING_MS} ms, the least",
                                  bytes([0xC0, 1]), b"\xe0", 3, bytes([0xC0, 0])),
    "PING": FirmataRequest("REPORT_VERSION -> its version, Firmata's closest counterpart", b"\xf9",
                           FIRMATA_VERSION, 3),
}


class FirmataHost:
    """Just enough of a Firmata host for FIRMATA_REQUESTS on a board paced to the wall clock
    (LockstepFirmata: in lock-step). `request` is the round trip to time; `tidy` what follows it."""

    def __init__(self, link: serial.Serial | LockstepLink) -> None:
        self.link = link
        self.sent = self.received = 0  # the requests' bytes and their replies'
        self.read_bytes = 0  # every byte read

    def close(self) -> None:
        self.link.close()

    def send(self, data: bytes, length: int) -> None:
        """Write `data`, whose reply is `length` bytes."""
        self.link.write(data)

    def read(self, done: Callable[[bytes], bool], asked: bytes, timeout: float = 2.0) -> bytes:
        """Read until `done` holds for what came back (the answer to `asked`)."""
        reply, deadline = b"", time.monotonic() + timeout
        while not done(reply):
            if time.monotonic() > deadline:
                raise RuntimeError(f"Firmata did not answer {asked.hex(' ')}: {reply.hex(' ')}")
            self.link.timeout = max(0.0, deadline - time.monotonic())
            reply += self.link.read(max(1, self.link.in_waiting))
        self.read_bytes += len(reply)
        return reply

    def wait_ready(self, within: float = 10.0) -> None:
        """REPORT_VERSION until it answers (Firmata blinks its version for ~2 s after a reset),
        then FIRMATA_SETUP."""
        deadline = time.monotonic() + within
        while True:
            try:
                self.send(b"\xf9", len(FIRMATA_VERSION))
                self.read(lambda r: FIRMATA_VERSION in r, b"\xf9", timeout=0.3)
                break
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
        self.link.write(FIRMATA_SETUP)
        time.sleep(0.2)
        self.link.reset_input_buffer()

    def request(self, name: str) -> bytes:
        """FIRMATA_REQUESTS[name]'s bytes and its reply: the round trip to time."""
        request = FIRMATA_REQUESTS[name]
        self.send(request.send, request.length)
        reply = self.read(lambda r: len(r) >= request.length, request.send)
        if not reply.startswith(request.reply):
            raise RuntimeError(f"Firmata answered {request.send.hex(' ')} with {reply.hex(' ')}")
        self.sent += len(request.send)
        self.received += len(reply)
        return reply

    def tidy(self, name: str) -> None:
        """After request(name): its `after` bytes, then REPORT_VERSION, reading up to that reply (the
        version's bytes, unlike a report's, cannot be data), so that nothing the board sent before
        is left to read."""
        if after := FIRMATA_REQUESTS[name].after:
            self.link.write(after + b"\xf9")
            self.read(lambda r: r.endswith(FIRMATA_VERSION), after)


def summary(samples: list[float], per: float) -> str:
    """Median, p95 and bytes per transaction of round trips measured in seconds."""
    return (f"median {median_ms(samples):.2f} ms, p95 {statistics.quantiles(samples, n=20)[-1] * 1000:.2f} ms, "
            f"{per:.0f} B/transaction")


def timed(samples: list[float], action: Callable[[], object]) -> None:
    """Append the seconds `action` takes."""
    start = time.perf_counter()
    action()
    samples.append(time.perf_counter() - start)


@group
def wire(ctx: Context) -> list[Row]:
    """On the simulated uno (paced to the wall clock) running every command, at 115200 and
    1,000,000 baud, in JSON mode and in compact mode (binary frames): round trips one at a time
    (median and p95), bytes per transaction (both ways, counted by the host), and pipelined
    requests per second (BoardClient.pipeline within INFO's window) against the wire's limit
    (the busier direction's bytes at baud/10 bytes per second).
    With --firmata, StandardFirmata 2.5.9 runs on a second simulated uno at 115200 and each
    compact round trip alternates with its Firmata counterpart (FIRMATA_REQUESTS; what tidies up
    after one, reporting off again, is not timed), so both see the same machine; the goal is then
    Firmata's median from this run, else issue 11's figures.
    The simulator adds its own latency to every round trip (it reads and writes its pty at most
    every 100 us and paces itself in slices of ~1,000 instructions) and its figures move by tens
    of percent from run to run: compare rows of one run. At 1,000,000 baud it manages ~1,100
    transactions per second even one at a time: those pipelined rows measure the simulator."""
    rows = []
    rounds = max(ctx.rounds, 5) * 10
    for env in WIRE_ENVS:
        build = helpers.build_dir(selections_project(ctx), env)
        stamp = Stamp.load(stamp_path(build))
        assert stamp and stamp.baud_rate, f"{build} holds no record of its sketch"
        uno, baud = board_facts(stamp.identity.board), stamp.baud_rate
        with contextlib.ExitStack() as stack:
            sim = stack.enter_context(SimBoard(build / "firmware.elf", uno.simulated().mcu, uno.f_cpu, realtime=True))
            sim.set_adc(0, 2500)
            client = stack.enter_context(BoardClient(sim.serial_port, baud))
            firmata = None
            if ctx.firmata and baud == 115200:
                other = stack.enter_context(SimBoard(firmata_elf(ctx, baud), uno.simulated().mcu, uno.f_cpu,
                                                     realtime=True))
                other.set_adc(0, 2500)
                firmata = FirmataHost(serial.Serial(other.serial_port, baud, timeout=1))
                stack.callback(firmata.close)
                firmata.wait_ready()
            client.wait_ready()
            for mode in ("json", "compact"):
                client.info(compact=mode == "compact")
                for request, issue_figure in WIRE_REQUESTS.items():
                    samples: list[float] = []
                    theirs: list[float] = []
                    before = client.sent + client.received
                    firmata_before = firmata.sent + firmata.received if firmata else 0
                    for _ in range(rounds):
                        timed(samples, functools.partial(client.request, request))
                        if firmata and mode == "compact":
                            timed(theirs, functools.partial(firmata.request, request.split()[0]))
                            firmata.tidy(request.split()[0])
                    per = (client.sent + client.received - before) / rounds
                    goal_ms, source = issue_figure, "Firmata, issue 11"
                    if theirs and firmata:
                        goal_ms, source = median_ms(theirs), "Firmata, this run"
                        theirs_per = (firmata.sent + firmata.received - firmata_before) / rounds
                        rows.append(Row("wire", f"StandardFirmata 2.5.9: {request.split()[0]} counterpart, "
                                        f"{baud} baud (n={rounds})", "", summary(theirs, theirs_per)))
                    goal = mode == "compact" and baud == 115200
                    rows.append(Row("wire", f"{request} round trip, {mode}, {baud} baud (n={rounds})",
                                    f"<= {goal_ms:.2f} ms ({source})" if goal else "", summary(samples, per),
                                    median_ms(samples) <= goal_ms if goal else None))
                lines = ["GPIO_READ 7"] * PIPELINED
                sent, received = client.sent, client.received
                start = time.perf_counter()
                client.pipeline(lines)
                seconds = time.perf_counter() - start
                request_bytes = (client.sent - sent) / PIPELINED
                reply_bytes = (client.received - received) / PIPELINED
                limit = baud / 10 / max(request_bytes, reply_bytes)
                rate = PIPELINED / seconds
                rows.append(Row("wire", f"pipelined GPIO_READ, {mode}, {baud} baud, window {client.window} B",
                                f">= {PIPELINE_GOAL:.0%} of wire limit",
                                f"{rate:.0f} req/s of {limit:.0f} ({rate / limit:.0%}; "
                                f"{request_bytes:.0f} B out, {reply_bytes:.0f} B back)",
                                rate >= PIPELINE_GOAL * limit))
    return rows


@group
def board_bound(ctx: Context) -> list[Row]:
    """What the board itself can do when pipelined: the uno at 1,000,000 baud on a free-running
    simulator (4-5 times faster than the wall clock, so neither the pty nor the host paces it),
    timed in simulated cycles. Rates below the wire's limit here are the firmware's cost per
    request (receiving, dispatch, the reply through the Arduino core's Serial), on a real board too:
    a 3-byte frame arrives every 480 cycles at 1,000,000 baud, and the latency group shows a
    GPIO_READ takes over 1,600 before its reply even starts."""
    rows = []
    build = helpers.build_dir(selections_project(ctx), "uno_all_1mbaud")
    stamp = Stamp.load(stamp_path(build))
    assert stamp and stamp.baud_rate, f"{build} holds no record of its sketch"
    uno, baud = board_facts(stamp.identity.board), stamp.baud_rate
    with SimBoard(build / "firmware.elf", uno.simulated().mcu, uno.f_cpu) as sim:
        with BoardClient(sim.serial_port, baud) as client:
            client.wait_ready()
            for mode in ("json", "compact"):
                client.info(compact=mode == "compact")
                sent, received, start = client.sent, client.received, sim.cycles()
                client.pipeline(["GPIO_READ 7"] * PIPELINED)
                cycles = (sim.cycles() - start) / PIPELINED
                per = max(client.sent - sent, client.received - received) / PIPELINED
                rate, limit = uno.f_cpu / cycles, baud / 10 / per
                rows.append(Row("board_bound", f"pipelined GPIO_READ, {mode}, {baud} baud, simulated time", "",
                                f"{rate:.0f} req/s of {limit:.0f} ({rate / limit:.0%}): "
                                f"{cycles:.0f} cycles per request"))
    return rows


# ---- (h) the wifi_tcp key: the Noise handshake on the emulated D1 mini -----------------------------

@group
def wifi_key(ctx: Context) -> list[Row]:
    """A keyed wifi_tcp board (WIFI_KEY) under esp8266/Arduino 3.1.2's host emulation: the Noise
    handshake as the board times it (its status line, micros() around its side of it) and as a
    host sees a connection (TCP connect, handshake, one PING). Host CPU time, not the chip's: the
    chip's figure (80 MHz, X25519 in BearSSL's m15 code) is far larger."""
    from generator.sim.esp8266.board import HostBoard  # noqa: PLC0415 - only for this group
    from generator.values import new_key  # noqa: PLC0415
    from testsupport import esp8266host  # noqa: PLC0415

    if not esp8266host.ARCHIVE.is_file():
        return [Row("wifi_key", "handshake on the emulated D1 mini", "", f"skipped: {esp8266host.ARCHIVE} is absent")]
    key = new_key()
    sketch = esp8266host.generate(ctx.work / "wifi_key", "d1_keyed", "--transport", "wifi_tcp", "--commands",
                                  "gpio_read", "--set", "WIFI_SSID=bench", "--set", "WIFI_PASSWORD=",
                                  "--set", f"WIFI_KEY={key}")
    board_us, host_s = [], []
    with HostBoard(esp8266host.core().build(sketch)) as board:
        board.wait_listening()
        uart = esp8266host.StatusLines(board.serial_port)
        for _ in range(max(ctx.rounds, 5) * 3):
            started = time.perf_counter()
            with esp8266host.client_when_free(board.tcp_url, key):  # connect, handshake, PING
                host_s.append(time.perf_counter() - started)
            board_us.append(int(uart.wait(b"handshake ").split()[-2]))
            uart.wait(b"wifi: client left")
    return [Row("wifi_key", f"handshake, board side (emulated, {len(board_us)} connections)", "",
                f"median {statistics.median(board_us) / 1000:.2f} ms, max {max(board_us) / 1000:.2f} ms"),
            Row("wifi_key", "connect + handshake + PING, host side (loopback)", "",
                f"median {median_ms(host_s):.2f} ms, max {max(host_s) * 1000:.2f} ms")]


# ---- firmware time in simulated cycles: the same figures on any machine ---------------------------

CYCLE_REQUESTS = {"GPIO_READ": "GPIO_READ 7", "GPIO_WRITE": "GPIO_WRITE 13 1", "ANALOG_READ": "ANALOG_READ A0",
                  "PING": "PING"}
CYCLE_REPEATS = 5
PIPELINED_1M_GOAL = 0.60  # issue 19: pipelined GPIO_READ frames at 1,000,000 baud, of the wire's limit
QUIET_CYCLES = 50_000  # the least quiet time that ends a reply: longer than any request's work but DHT_READ's
BOOT_CYCLES = 2_000_000  # 125 ms at 16 MHz: the Arduino core's start and setup() are done


class LockstepLink:
    """A pyserial port whose writes go to a paused SimBoard at an exact cycle (`send`), after
    which the board runs (`step`) for the bytes' own time on the wire, then in chunks of 16 byte
    times (at least QUIET_CYCLES) until a chunk passes with nothing sent. Every cycle the firmware
    sees therefore follows from the ELF and the requests alone: the host's speed only changes how
    long the run takes, never a figure. Reads come from the pty."""

    def __init__(self, sim: SimBoard, link: serial.SerialBase, baud: int, f_cpu: int) -> None:
        self.sim, self.link = sim, link
        self.byte = 10 * f_cpu // baud
        self.chunk = max(16 * self.byte, QUIET_CYCLES)
        self.sent = 0
        self.cycle = 0

    def settle(self, arriving: int = 0) -> None:
        """Run while `arriving` bytes reach the board, then until it has stopped sending for a
        whole chunk."""
        if arriving:
            event = self.sim.step(arriving * self.byte)
            self.sent, self.cycle = event.sent, event.cycle
        while True:
            event = self.sim.step(self.chunk)
            quiet, self.sent = event.sent == self.sent, event.sent
            self.cycle = event.cycle
            if quiet:
                return

    def write(self, data: bytes) -> int:
        """Give the board `data` at the current cycle, then let it answer."""
        self.sim.send(data)
        self.settle(len(data))
        return len(data)

    def answer(self, data: bytes, count: int) -> None:
        """Give the board `data` at the current cycle, run it while `data` arrives, then a byte time
        at a time until it has sent `count` more bytes: for a board that may never go quiet (Firmata
        reporting an analog pin every millisecond), on which write() would run forever."""
        target, limit = self.sent + count, self.cycle + 20 * self.chunk
        self.sim.send(data)
        event = self.sim.step(len(data) * self.byte)
        while event.sent < target:
            if event.cycle > limit:
                raise RuntimeError(f"{data.hex(' ')}: {event.sent - target + count} of {count} bytes back "
                                   f"after {event.cycle - limit + 20 * self.chunk} cycles")
            event = self.sim.step(self.byte)
        self.sent, self.cycle = event.sent, event.cycle

    def flush(self) -> None:
        """Nothing waits: write() already ran the board."""

    def __getattr__(self, name: str) -> Any:
        """Everything else (read, in_waiting, read_until, close...) is the pty's."""
        return getattr(self.link, name)

    def __setattr__(self, name: str, value: Any) -> None:
        """`timeout` is the pty's: BoardClient sets it before each read."""
        if name == "timeout" and "link" in self.__dict__:
            self.link.timeout = value
        else:
            super().__setattr__(name, value)


@contextlib.contextmanager
def lockstep_client(elf: Path, board: str, baud: int) -> Iterator[tuple[SimBoard, BoardClient, LockstepLink]]:
    """A paused simulated `board` running `elf`, booted, with a BoardClient speaking in lock-step."""
    facts = board_facts(board)
    with SimBoard(elf, facts.simulated().mcu, facts.f_cpu, latency=True, paused=True) as sim:
        sim.set_adc(0, 2500)
        with BoardClient(sim.serial_port, baud) as client:
            link = LockstepLink(sim, client.link, baud, facts.f_cpu)
            sim.step(BOOT_CYCLES)
            client.link = link
            client.wait_ready()
            yield sim, client, link


def latencies(sim: SimBoard, ask: Callable[[], object], repeats: int, timeout: float = 5) -> list[int]:
    """Cycles from the last byte of the request `ask` makes to its reply's first byte, `repeats` times."""
    cycles = []
    for _ in range(repeats):
        since = sim.mark()
        ask()
        cycles.append(sim.wait_for(LatencyEvent, since=since, timeout=timeout).cycles)
    return cycles


def request_cycles(sim: SimBoard, client: BoardClient, request: str, repeats: int) -> list[int]:
    """Cycles from each request's last byte to its reply's first byte, `repeats` times."""
    def ask() -> None:
        reply = client.request(request)
        if reply.get("ok") != 1:
            raise RuntimeError(f"{request}: {reply}")
    return latencies(sim, ask, repeats)


def record(out: dict[str, dict[str, object]], kind: str, suffix: str, name: str, cycles: list[int]) -> None:
    """`{kind}_cycles{suffix}.{name}`: the median of `cycles`; `{kind}_cycles_spread{suffix}.{name}`:
    their [min, max]."""
    out.setdefault(f"{kind}_cycles{suffix}", {})[name] = int(statistics.median(cycles))
    out.setdefault(f"{kind}_cycles_spread{suffix}", {})[name] = [min(cycles), max(cycles)]


def pipelined_fraction(sim: SimBoard, client: BoardClient, link: LockstepLink, request: str, count: int,
                       cycles_per_byte: float) -> tuple[float, int, int]:
    """`count` frames of `request` sent as BoardClient.pipeline sends them: as many back to back
    as INFO's window holds, one more as each reply arrives (the board stepped one reply's
    time at a time). Returns the wire's time for the busier direction (count requests or
    replies) over the simulated time from the first request byte to the last reply, with the
    reply bytes expected and received. Every reply must be the one a lone request gets: a
    refusal (bytes lost: the window was not enough) fails the run instead of being counted."""
    before = link.sent
    client.request(request)
    reply_length = link.sent - before  # bytes of one reply
    client.drain()
    one = client.prepare(request).data
    window = max(1, client.window // len(one))  # requests in flight
    step = reply_length * round(cycles_per_byte)
    start, first = link.cycle, link.sent
    sent = answered = 0
    while answered < count:
        if sent - answered < window and sent < count:
            more = min(window - (sent - answered), count - sent)
            sim.send(one * more)
            sent += more
        event = sim.step(step)
        link.cycle = event.cycle
        answered = (event.sent - first) // reply_length
        if event.cycle - start > count * 100 * step:
            raise RuntimeError(f"pipelined {request}: {answered} of {count} replies after {event.cycle - start} cycles")
    link.sent = event.sent
    link.settle()
    received = link.sent - first
    replies = b""
    while len(replies) < received:
        replies += client.link.read(received - len(replies))
    # One success frame (header 10xxxxxx; a refusal's is 11xxxxxx) repeated: nothing was lost.
    if not (replies[:1] and replies[0] & 0xC0 == 0x80 and replies == replies[:reply_length] * count):
        raise RuntimeError(f"pipelined {request}: not {count} success replies of {reply_length} bytes "
                           f"({received} bytes): {replies[:40].hex()}...")
    elapsed = event.cycle - start
    return count * max(len(one), reply_length) * cycles_per_byte / elapsed, count * reply_length, received


def board_cycle_figures(elf: Path, board: str, baud: int, names: Sequence[str] = tuple(CYCLE_REQUESTS),
                        repeats: int = CYCLE_REPEATS, pipelined: int = PIPELINED) -> dict[str, dict[str, object]]:
    """The simulated-time figures of one firmware in lock-step: median cycles per request and
    their [min, max] in text and in frames (None for a command without a frame form: INFO and
    CATALOGUE, docs/protocol.md); at 1,000,000 baud, also the wire's share of a frame
    round trip and the pipelined fraction of the wire's limit (`pipelined` GPIO_READ frames
    within the window: pipelined_fraction)."""
    out: dict[str, dict[str, object]] = {}
    f_cpu = board_facts(board).f_cpu
    per_byte = 10 * f_cpu / baud
    suffix = "" if baud == 115200 else f"_{baud // 1000}k".replace("_1000k", "_1m")
    with lockstep_client(elf, board, baud) as (sim, client, link):
        for mode in ("text", "frame"):
            client.info(compact=mode == "frame")
            for name in names:
                if mode == "frame" and client.prepare(CYCLE_REQUESTS[name]).form is None:
                    out.setdefault("frame_cycles" + suffix, {})[name] = None  # no frame form: text only
                    continue
                cycles = request_cycles(sim, client, CYCLE_REQUESTS[name], repeats)
                record(out, mode, suffix, name, cycles)
                if baud == 1_000_000 and mode == "frame":
                    sent, received = client.sent, client.received
                    client.request(CYCLE_REQUESTS[name])
                    wire = (client.sent - sent + client.received - received) * per_byte
                    out.setdefault("wire_share_1m", {})[name] = round(wire / (wire + statistics.median(cycles)), 3)
        if baud == 1_000_000 and pipelined:
            fraction, expected, received = pipelined_fraction(sim, client, link, "GPIO_READ 7", pipelined, per_byte)
            out["pipelined_1m"] = {"fraction": round(fraction, 3), "reply_bytes": [expected, received]}
    return out


FIRMATA_BOOT_CYCLES = 40_000_000  # 2.5 s at 16 MHz: Firmata.begin() blinks its version on pin 13 for 2.125 s
#                                   (2 and 5 blinks of 250 ms, 375 ms of pauses) before it sends it


class LockstepFirmata(FirmataHost):
    """FirmataHost on a paused simulated board, its link a LockstepLink: the board runs until a
    request's reply is out (LockstepLink.answer: with analog reporting on it never goes quiet),
    and after each request until it has been quiet for a chunk, so every request starts as
    BoardClient's do in lock-step."""

    link: LockstepLink

    def send(self, data: bytes, length: int) -> None:
        """Give the board `data` and run it until it has sent `length` bytes back."""
        self.link.answer(data, length)

    def drain(self) -> None:
        """Run the board until it is quiet, then read whatever it sent that is still unread."""
        self.link.settle()
        unread = self.link.sent - self.read_bytes
        self.read(lambda r: len(r) >= unread, b"")

    def wait_ready(self, within: float = 0.0) -> None:
        """On a board run for FIRMATA_BOOT_CYCLES: drop what Firmata sent on starting (its version
        and name), check that REPORT_VERSION gets its version, then FIRMATA_SETUP."""
        self.drain()
        self.request("PING")
        self.link.write(FIRMATA_SETUP)
        self.drain()

    def tidy(self, name: str) -> None:
        """After request(name): its `after` bytes, then the board run until quiet and read out."""
        if after := FIRMATA_REQUESTS[name].after:
            self.link.write(after)
        self.drain()

    def round_trip(self, name: str) -> None:
        """request(name), then tidy(name)."""
        self.request(name)
        self.tidy(name)


def firmata_cycle_figures(elf: Path, baud: int, repeats: int = CYCLE_REPEATS) -> dict[str, dict[str, object]]:
    """StandardFirmata's counterparts (FIRMATA_REQUESTS) of CYCLE_REQUESTS on the simulated uno in
    lock-step, measured as board_cycle_figures measures our firmware: `firmata_cycles` (median
    cycles from a request's last byte to its reply's first) and `firmata_cycles_spread` ([min, max])."""
    uno = board_facts("uno")
    out: dict[str, dict[str, object]] = {}
    with SimBoard(elf, uno.simulated().mcu, uno.f_cpu, latency=True, paused=True) as sim:
        sim.set_adc(0, 2500)
        host = LockstepFirmata(LockstepLink(sim, serial.Serial(sim.serial_port, baud, timeout=1), baud,
                                            uno.f_cpu))
        try:
            sim.step(FIRMATA_BOOT_CYCLES, timeout=120)
            host.wait_ready()
            for name in FIRMATA_REQUESTS:
                record(out, "firmata", "", name, latencies(sim, functools.partial(host.round_trip, name), repeats))
        finally:
            host.close()
    return out


def cycle_figures(ctx: Context) -> dict[str, object]:
    """board_cycle_figures of the uno running every command at 115200 and at 1,000,000 baud; with
    --firmata, firmata_cycle_figures of StandardFirmata 2.5.9 at 115200."""
    out: dict[str, object] = {}
    for env in ("uno_all", "uno_all_1mbaud"):
        build = helpers.build_dir(selections_project(ctx), env)
        stamp = Stamp.load(stamp_path(build))
        assert stamp and stamp.baud_rate, f"{build} holds no record of its sketch"
        out.update(board_cycle_figures(build / "firmware.elf", stamp.identity.board, stamp.baud_rate))
    if ctx.firmata:
        out.update(firmata_cycle_figures(firmata_elf(ctx, 115200), 115200))
    pipelined = out.pop("pipelined_1m", {})
    assert isinstance(pipelined, dict)
    out["pipelined_1m_fraction"] = pipelined.get("fraction")
    out["pipelined_1m_reply_bytes"] = pipelined.get("reply_bytes")  # [expected, received]
    return out


@group
def cycles(ctx: Context) -> list[Row]:
    """Firmware time per request in simulated cycles, the board run in lock-step (LockstepLink):
    the same commit gives the same figures on any machine. With --firmata, StandardFirmata 2.5.9's
    counterparts too (firmata_cycle_figures)."""
    figures = cycle_figures(ctx)
    ctx.figures.update(figures)
    theirs = figures.get("firmata_cycles")
    rows = []
    for key, value in figures.items():
        if key == "firmata_cycles" and isinstance(value, dict):  # which Firmata request, for people
            rows += [Row("cycles", f"{key}.{name}: {FIRMATA_REQUESTS[name].what}", "", str(v))
                     for name, v in value.items()]
        elif key == "frame_cycles" and isinstance(value, dict) and isinstance(theirs, dict):  # issue 19's goal
            rows += [Row("cycles", f"{key}.{name}", f"<= {theirs[name]} (Firmata)", str(v), v <= theirs[name])
                     for name, v in value.items() if v is not None and name in theirs]
        elif isinstance(value, dict):
            rows += [Row("cycles", f"{key}.{name}", "", str(v)) for name, v in value.items()]
        elif key == "pipelined_1m_fraction" and isinstance(value, float):
            rows.append(Row("cycles", key, f">= {PIPELINED_1M_GOAL}", str(value), value >= PIPELINED_1M_GOAL))
        else:
            rows.append(Row("cycles", key, "", str(value)))
    return rows


# ---- the table ------------------------------------------------------------------------------------

def print_table(rows: list[Row]) -> None:
    """Print the rows as an aligned text table."""
    header = ("group", "measurement", "goal", "measured", "")
    cells = [header] + [(r.group, r.what, r.goal, r.measured,
                         "" if r.ok is None else ("meets goal" if r.ok else "MISSES GOAL")) for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for index, row in enumerate(cells):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))


def main(argv: list[str] | None = None) -> int:
    """Run the selected groups, then print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated groups: " + ", ".join(g.__name__ for g in ROWS))
    parser.add_argument("--rounds", type=int, default=7, help="timed runs per measurement (default 7)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object of the figures (frame_cycles, text_cycles, wire_share_1m, "
                             "pipelined_1m_fraction, with --firmata firmata_cycles, generate_ms, noop_ratio...) "
                             "instead of the table")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder and print it")
    parser.add_argument("--firmata", type=Path, metavar="DIR",
                        help="a folder holding the Firmata (2.5.9) and Servo Arduino libraries: adds "
                             "StandardFirmata to the wire and cycles groups (see the module's docstring)")
    args = parser.parse_args(argv)
    wanted = set(args.only.split(",")) if args.only else {g.__name__ for g in ROWS}
    work = Path(tempfile.mkdtemp(prefix="firmware-bench-"))
    rows: list[Row] = []
    try:
        ctx = Context(work, args.rounds, args.firmata)
        for func in ROWS:
            if func.__name__ in wanted:
                started = time.perf_counter()
                rows += func(ctx)
                print(f"[{func.__name__}: {time.perf_counter() - started:.1f} s]", file=sys.stderr, flush=True)
    finally:
        if args.keep:
            print(f"scratch folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(ctx.figures, indent=1, sort_keys=True))
    else:
        print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
