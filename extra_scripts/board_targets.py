"""PlatformIO post: script: the `probe`, `simulate` and `menuconfig` targets of a generated-firmware env.

    pio run -e uno -t probe        ask the board on the env's port whether it runs this selection
    pio run -e uno -t simulate     build, then run the firmware on a simulated board (AVR envs, bmcu_c),
                                   or an ESP8266 env's sketch under its Arduino core's host emulation
    pio run -e uno -t menuconfig   choose the env's firmware in a terminal menu (platformio_override.ini)
"""
from pathlib import Path

Import("env")

from generator import glue
from generator.errors import FirmwareError
from generator.pioenv.options import EnvOptions


def _sketch(env):
    """This env's generated sketch, as the pre: script left it (generated and up to date)."""
    sketch = env.get("FIRMWARE_SKETCH")
    if sketch is None:
        raise FirmwareError("this env has no generated sketch",
                            "list pre:extra_scripts/generate_firmware.py in its extra_scripts")
    return sketch


def _options(env) -> EnvOptions:
    name = env.subst("$PIOENV")
    return EnvOptions.from_project_config(name, env.GetProjectConfig(), env.subst("$PROJECT_CONFIG"))


def probe(source, target, env) -> int:
    return glue.guarded(lambda: glue.probe(_sketch(env), _options(env), env.subst("$UPLOAD_PORT").strip()))


def _framework(env) -> str | None:
    """The ESP8266 Arduino core PlatformIO installed for this env, if any."""
    platform = env.PioPlatform()
    name = "framework-arduinoespressif8266"
    return platform.get_package_dir(name) if name in platform.packages else None


def simulate(source, target, env) -> int:
    command = glue.guarded(lambda: glue.simulate_command(
        _sketch(env), env.subst("$BUILD_DIR/${PROGNAME}.elf"), _framework(env), env.subst("$PROJECT_DIR"),
        _options(env).text("custom_firmware_serial_port")))
    return command if isinstance(command, int) else env.Execute(command)


def menuconfig(source, target, env) -> int:
    return env.Execute(glue.menuconfig_command(env.subst("$PIOENV"), Path(env.subst("$PROJECT_DIR"))))


# `python -m generator simulate` builds the simulated AVR board itself, for AVR envs only, when it is
# missing or older than its sources (an ESP8266 env needs no simavr).
env.AddCustomTarget(
    name="simulate", dependencies=["$BUILD_DIR/${PROGNAME}.elf"], actions=[simulate],
    title="Simulate",
    description="Run the firmware on a simulated board (simavr; Unicorn for the BMCU-C; the ESP8266 core's host "
                "emulation for the D1 mini); Ctrl-C stops")
env.AddCustomTarget(
    name="probe", dependencies=None, actions=[probe], title="Probe board",
    description="Ask the board for INFO and compare it with this env's selection")
env.AddCustomTarget(
    name="menuconfig", dependencies=None, actions=[menuconfig], title="Menuconfig",
    description="Choose this env's transport, devices, commands and settings in a terminal menu")
