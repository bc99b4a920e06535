"""The façade the PlatformIO extra scripts call (as ESPHome's codegen.py is for its components).

The scripts in extra_scripts/ only read the env (its options, paths, targets) and hand the
results back to SCons; everything they do is here, without importing PlatformIO or SCons.
Every function that runs a step returns an exit status and prints its own errors, through
`errors.report` (FIRMWARE_VERBOSE=1 adds the traceback of an unexpected error).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from generator.errors import FirmwareError, report, warn
from generator.files import write_if_changed
from generator.paths import REQUIREMENTS, sketch_path
from generator.pioenv import deps
from generator.pioenv.envsketch import GeneratedEnv, generate_env, lock_env_build, sketch_as_cpp
from generator.pioenv.options import EnvOptions, Hardware

T = TypeVar("T")


def guarded(step: Callable[[], T]) -> T | int:
    """Run a step; any error is printed for the user and becomes exit status 1 (130 on Ctrl-C)."""
    try:
        return step()
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the glue's one error boundary
        return report(exc)


# `pio run -t` targets that compile nothing, so need no sketch (clean and cleanall are told
# apart by SCons' --clean, which PlatformIO passes with no target).
# `monitor` is not among them: it holds the env's build lock while it runs (see env_sketch).
NO_SKETCH_TARGETS = frozenset({"envdump", "erase", "fuses", "menuconfig", "flash_klipper"})


def needs_sketch(cleaning: bool, targets: list[str]) -> bool:
    """Whether a PlatformIO run needs the env's sketch: not to clean, nor for targets that
    compile nothing; a plain `pio run` has no targets and builds."""
    return not cleaning and not (targets and set(targets) <= NO_SKETCH_TARGETS)


def env_sketch(options: EnvOptions, hardware: Hardware, src_dir: Path, build_dir: Path, python: str,
               ide_refresh: bool, project_dir: Path | None = None) -> GeneratedEnv | None:
    """Generate the env's sketch (installing the generator's modules into `python` if needed)
    and print its status line. A build holds the env's lock (one build of an env at a time);
    an IDE refresh never installs anything, never waits and never prints."""
    if ide_refresh and deps.missing_modules():
        return None
    if not ide_refresh:
        lock_env_build(build_dir, options.name)
        folder = sketch_folder(src_dir, options.name)
        if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
            raise FirmwareError(f"{folder}: the env's sketch folder is not writable",
                                f"the build writes {options.name}.ino and {options.name}.ino.cpp there: "
                                f"make it writable (chmod u+w {folder})")
    deps.ensure(python, REQUIREMENTS)
    result = generate_env(src_dir, build_dir, options, hardware,
                          options.definitions(project_dir or src_dir.parent))
    if not ide_refresh:
        for warning in result.warnings:
            warn(warning)
        shown = result.path.relative_to(src_dir.parent) if result.path.is_relative_to(src_dir.parent) else result.path
        print(f"firmware: {shown} {'written' if result.written else 'up to date'} (hash {result.identity.hash}; "
              f"capabilities: {', '.join(result.capabilities) or 'none'})", flush=True)
    return result


def sketch_folder(src_dir: Path, env_name: str) -> Path:
    """The folder PlatformIO compiles for an env: the generated sketch's own."""
    return sketch_path(src_dir, env_name).parent


def convert_sketch(src_dir: Path, env_name: str) -> Path | None:
    """Write the .ino.cpp PlatformIO compiles for the env's sketch (see `sketch_as_cpp`); return
    it, for removal at exit, or None when there is no sketch (an IDE refresh that made none)."""
    ino = sketch_path(src_dir, env_name)
    if not ino.is_file():
        return None
    cpp = ino.with_name(ino.name + ".cpp")
    write_if_changed(cpp, sketch_as_cpp(ino))
    return cpp


def probe(result: GeneratedEnv, options: EnvOptions, upload_port: str) -> int:
    """`-t probe`: does the board on the env's port run this env's sketch? 0 when it does."""
    from generator.boards import board_facts  # noqa: PLC0415 - pyserial and jsonschema only for probe
    from generator.host.ports import choose_port  # noqa: PLC0415 - loaded only when this runs
    from generator.host.probe import probe as ask  # noqa: PLC0415 - loaded only when this runs

    port = options.text("monitor_port") or upload_port
    if not port:
        chosen, why = choose_port(None, board_facts(result.identity.board), "--upload-port PORT or monitor_port")
        port = chosen.name
        print(f"probe: using {port} ({why})")
    baud = result.baud_rate or int(options.text("monitor_speed", "0"))
    if not baud:
        raise FirmwareError(f"{options.section} has no serial speed to probe at",
                            "set monitor_speed to the board's baud rate")
    expected = result.identity
    actual, diffs = ask(port, baud, expected, key=options.text("custom_firmware_wifi_key") or None)
    print(f"probe: {port} runs board {actual.board}, transport {actual.transport}, fw {actual.fw}, "
          f"hash {actual.hash}, capabilities: {', '.join(actual.capabilities) or 'none'}")
    if diffs:
        print(f"probe: the board does NOT run env '{options.name}' (hash {expected.hash}):")
        for line in diffs:
            print(f"  - {line}")
        return 1
    print(f"probe: the board runs env '{options.name}' exactly (hash {expected.hash})")
    return 0


def simulate_command(result: GeneratedEnv, elf: str, framework: str | None = None, project_dir: str = ".",
                     serial_port: str = "") -> str:
    """`-t simulate`'s shell command: the simulator as a child that Ctrl-C reaches (SCons runs
    actions on worker threads, which never see it). An ESP8266 env runs its sketch under the
    emulation of the Arduino core PlatformIO installed (`framework`), when that core has it; a
    board with several UARTs (the BMCU-C) is simulated on `serial_port` (custom_firmware_serial_port)."""
    from generator.boards import board_facts  # noqa: PLC0415 - not on a build's path (see env_sketch)

    board = result.identity.board
    if board_facts(board).architecture == "esp8266":
        if not framework or not (Path(framework) / "tests" / "host" / "Makefile").is_file():
            raise FirmwareError(f"-t simulate runs an ESP8266 sketch under the Arduino core's own host emulation "
                                f"(tests/host), and the core PlatformIO installed has none ({framework or 'no core'})",
                                "run it from a checkout of esp8266/Arduino 3.1.2: python -m generator simulate "
                                f'--board {board} --sketch "{result.path}" --core <that checkout>')
        cache = Path(project_dir) / ".pio" / "esp8266-host"
        return (f'exec "$PYTHONEXE" -m generator simulate --board {board} --sketch "{result.path}" '
                f'--core "{framework}" --cache "{cache}"')
    baud = result.baud_rate or 0
    return (f'exec "$PYTHONEXE" -m generator simulate --board {board} --baud {baud} --elf "{elf}"'
            + (f" --serial-port {serial_port}" if serial_port else ""))


def menuconfig_command(env_name: str, project_dir: Path) -> str:
    """`-t menuconfig`'s shell command: the menu as a child on the terminal PlatformIO hands
    through for this target (its stdin, stdout and stderr)."""
    return f'exec "$PYTHONEXE" -m generator menuconfig --env {env_name} --project-dir "{project_dir}"'


def flash(options: EnvOptions, project_dir: Path, image_of: Callable[[], Path], given_port: str) -> int:
    """`-t upload` and `-t flash_klipper` with wchisp: flash the image `image_of()` names.
    Only the user's upload_speed counts: a platform's default speed is for its own uploader."""
    from generator.flash.cli import execute  # noqa: PLC0415 - flashing modules only when flashing
    from generator.pioenv.upload import flash_request  # noqa: PLC0415 - loaded only when this runs

    request = flash_request(options, project_dir, image_of(), given_port, options.text("upload_speed"))
    return execute(request)

