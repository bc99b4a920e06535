"""Arduino framework of the avr-debian platform: Debian's arduino-core-avr (1.8.x)."""
# pylint: disable=undefined-variable
import os
from os.path import isdir, join

from SCons.Script import DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()

CORE_DIR = os.environ.get("ARDUINO_AVR_CORE_DIR", "/usr/share/arduino/hardware/arduino/avr")
if not isdir(join(CORE_DIR, "cores", "arduino")):
    env.Exit(
        f"Error: the Arduino AVR core is not in {CORE_DIR}. Install it with "
        "'apt-get install arduino-core-avr' (or run 'make build'), or set ARDUINO_AVR_CORE_DIR."
    )

core_src = join(CORE_DIR, "cores", board.get("build.core"))
variant_dir = join(CORE_DIR, "variants", board.get("build.variant"))

env.Append(
    CPPDEFINES=[
        ("ARDUINO", 10819),
        "ARDUINO_ARCH_AVR",
        # gcc-avr 5.4's float.h defines DECIMAL_DIG for C only; WString.cpp needs it in C++.
        ("DECIMAL_DIG", "__DECIMAL_DIG__"),
    ],
    CPPPATH=[core_src, variant_dir],
    LIBSOURCE_DIRS=[join(CORE_DIR, "libraries")],
)

# Native USB boards (ATmega32U4): the core's USB stack needs the device's ids and names, which
# boards.txt passes as build.usb_flags; taken from the board file as platform-atmelavr does.
def c_string(text):
    """A string macro value as the compiler's command line must carry it."""
    return '\\"' + text.replace('"', "") + '\\"'


if "build.usb_product" in board:
    vid, pid = board.get("build.hwids")[0]
    env.Append(CPPDEFINES=[
        ("USB_VID", vid),
        ("USB_PID", pid),
        ("USB_PRODUCT", c_string(board.get("build.usb_product"))),
        ("USB_MANUFACTURER", c_string(board.get("vendor", "Unknown"))),
    ])

# wiring_pulse.S and wiring_pulse.c map to one object name in one folder: build the .S apart.
core = env.BuildLibrary(join("$BUILD_DIR", "FrameworkArduino"), core_src, src_filter="+<*> -<*.S>")
core_asm = env.BuildLibrary(join("$BUILD_DIR", "FrameworkArduinoAsm"), core_src, src_filter="-<*> +<*.S>")
env.Prepend(LIBS=[core, core_asm])
