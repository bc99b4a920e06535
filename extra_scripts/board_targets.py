"""PlatformIO post: script: the `probe` and `simulate` targets of a generated-firmware env.

    pio run -e uno -t probe      ask the board on the env's port whether it runs this selection
    pio run -e uno -t simulate   build, then run the firmware on a simulated board (AVR envs)
"""
# pylint: disable=undefined-variable
import functools
import sys
from pathlib import Path

Import("env")  # noqa: F821 - provided by SCons

from generator.errors import FirmwareError  # noqa: E402 (the pre: script put the project on sys.path)

ROOT = Path(env.subst("$PROJECT_DIR"))  # noqa: F821


def _option(env, name: str, default: str = "") -> str:
    value = env.GetProjectOption(name, default)
    return str(value).strip() if value is not None else default


def _env_sketch(env):
    """This env's generated sketch, as the pre: script left it (generated and up to date)."""
    sketch = env.get("FIRMWARE_SKETCH")
    if sketch is None:
        raise FirmwareError("this env has no generated sketch",
                            "list pre:extra_scripts/generate_firmware.py in its extra_scripts")
    return sketch


def _report(action):
    """Run an action; a FirmwareError becomes a message and a non-zero status, not a traceback."""
    @functools.wraps(action)
    def wrapper(source, target, env):
        try:
            return action(env)
        except FirmwareError as exc:
            sys.stderr.write(f"error: {exc}\n")
            return 1
    return wrapper


@_report
def probe(env) -> int:
    from generator.client import BoardInfo  # noqa: PLC0415
    from generator.flashing.ports import Wanted, choose_port  # noqa: PLC0415
    from generator.probe import probe as ask  # noqa: PLC0415

    sketch = _env_sketch(env)
    port = _option(env, "monitor_port") or env.subst("$UPLOAD_PORT").strip()  # or --upload-port
    if not port:
        chosen, why = choose_port(None, Wanted("the board", "--upload-port PORT or monitor_port", False))
        port = chosen.name
        print(f"probe: using {port} ({why})")
    baud = int(_option(env, "custom_firmware_baud_rate") or _option(env, "monitor_speed") or 115200)
    expected = BoardInfo(board=sketch.board, transport=sketch.transport, fw="", hash=sketch.hash,
                         capabilities=[c.lower() for c in sketch.capabilities])
    actual, diffs = ask(port, baud, expected)
    print(f"probe: {port} runs board {actual.board}, transport {actual.transport}, fw {actual.fw}, "
          f"hash {actual.hash}, capabilities: {', '.join(actual.capabilities) or 'none'}")
    if diffs:
        print(f"probe: the board does NOT run env '{env.subst('$PIOENV')}' (hash {sketch.hash}):")
        for line in diffs:
            print(f"  - {line}")
        return 1
    print(f"probe: the board runs env '{env.subst('$PIOENV')}' exactly (hash {sketch.hash})")
    return 0


@_report
def simulate(env) -> int:
    """In a child process: SCons runs actions on worker threads, which never see Ctrl-C."""
    sketch = _env_sketch(env)
    baud = _option(env, "custom_firmware_baud_rate") or "115200"
    return env.Execute(
        f'exec "$PYTHONEXE" -m generator simulate --board {sketch.board} --baud {baud} '
        f'--elf "$BUILD_DIR/${{PROGNAME}}.elf" --definitions "{ROOT / "definitions"}"')


env.AddCustomTarget(  # noqa: F821
    name="simulate", dependencies="$BUILD_DIR/${PROGNAME}.elf", actions=[simulate],
    title="Simulate", description="Run the firmware on a simulated board (simavr); Ctrl-C stops")
env.AddCustomTarget(  # noqa: F821
    name="probe", dependencies=None, actions=[probe], title="Probe board",
    description="Ask the board for INFO and compare it with this env's selection")
