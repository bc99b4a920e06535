"""SConstruct of the avr-debian platform: Debian's avr-gcc toolchain, no registry packages."""
# pylint: disable=undefined-variable
import os
import shutil
import subprocess
import sys
from os.path import join

from platformio.public import list_serial_ports
from SCons.Script import AlwaysBuild, Builder, Default, DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()
mcu = board.get("build.mcu")

env.Replace(
    AR="avr-gcc-ar",
    AS="avr-gcc",
    CC="avr-gcc",
    CXX="avr-g++",
    GDB="avr-gdb",
    OBJCOPY="avr-objcopy",
    RANLIB="avr-gcc-ranlib",
    SIZETOOL="avr-size",
    ARFLAGS=["rc"],
    BOARD_MCU=mcu,
    PROGNAME="firmware",
    PROGSUFFIX=".elf",
    SIZEPROGREGEXP=r"^(?:\.text|\.data|\.bootloader)\s+(\d+).*",
    SIZEDATAREGEXP=r"^(?:\.data|\.bss|\.noinit)\s+(\d+).*",
    SIZEEEPROMREGEXP=r"^(?:\.eeprom)\s+(\d+).*",
    SIZECHECKCMD="$SIZETOOL -A -d $SOURCES",
    SIZEPRINTCMD="$SIZETOOL --mcu=$BOARD_MCU -C -d $SOURCES",
    UPLOADER="avrdude",
    UPLOADERFLAGS=[
        "-p", "$BOARD_MCU", "-C", "/etc/avrdude.conf",
        "-c", "$UPLOAD_PROTOCOL", "-b", "$UPLOAD_SPEED", "-D", "-P", '"$UPLOAD_PORT"',
    ],
    # stk500v1 (`arduino`): 2 sync attempts (about 12 s) instead of 10 (about 56 s) when no
    # bootloader answers; avrdude 7.1's stk500v2 (`wiring`) takes no such parameter.
    UPLOADEREXTRA=["-x", "attempts=2"] if env.subst("$UPLOAD_PROTOCOL") == "arduino" else [],
    UPLOADCMD="$UPLOADER $UPLOADERFLAGS $UPLOADEREXTRA -U flash:w:$SOURCES:i",
)

# Size: -mcall-prologues saves and restores registers through shared library routines rather than
# inline push/pop sequences (a few cycles per call); -mrelax lets the linker shorten calls and
# jumps within reach to rcall/rjmp. Together about 5 % less flash on the uno env.
env.Append(
    ASFLAGS=["-x", "assembler-with-cpp", "-flto", "-mmcu=$BOARD_MCU"],
    CCFLAGS=["-Os", "-mcall-prologues", "-Wall", "-ffunction-sections", "-fdata-sections", "-flto",
             "-mmcu=$BOARD_MCU"],
    CFLAGS=["-std=gnu11", "-fno-fat-lto-objects"],
    CXXFLAGS=["-std=gnu++11", "-fpermissive", "-fno-exceptions", "-fno-threadsafe-statics"],
    CPPDEFINES=[("F_CPU", "$BOARD_F_CPU")],
    LINKFLAGS=["-Os", "-mcall-prologues", "-mrelax", "-mmcu=$BOARD_MCU", "-flto", "-fuse-linker-plugin",
               "-Wl,--gc-sections"],
    LIBS=["m"],
    BUILDERS=dict(
        ElfToHex=Builder(
            action=env.VerboseAction(
                "$OBJCOPY -O ihex -R .eeprom $SOURCES $TARGET", "Building $TARGET"
            ),
            suffix=".hex",
        ),
        ElfToBin=Builder(
            action=env.VerboseAction(
                "$OBJCOPY -O binary -R .eeprom $SOURCES $TARGET", "Building $TARGET"
            ),
            suffix=".bin",
        ),
    ),
)

program = env.BuildProgram()
firmware = [
    env.ElfToHex(join("$BUILD_DIR", "${PROGNAME}"), program),
    env.ElfToBin(join("$BUILD_DIR", "${PROGNAME}"), program),
]
AlwaysBuild(env.Alias("size", program, env.VerboseAction("$SIZEPRINTCMD", "Calculating size $SOURCE")))



def upload_problem(env):
    """Why avrdude cannot upload, said at once, or None (avrdude alone would say `not found`, or
    try for a minute to reach a board that is not there)."""
    if not shutil.which(env.subst("$UPLOADER")):
        return "error: avrdude is not installed\n  hint: run `make build` (it installs it) or " \
               "`sudo apt-get install avrdude`"
    port = env.subst("$UPLOAD_PORT")
    if not port:
        return "error: no upload port: no board found\n  hint: connect the board, or pass " \
               "--upload-port PORT (or set upload_port in platformio.ini)"
    if port.startswith("/") and not os.path.exists(port):
        return f"error: the upload port {port} does not exist: is the board connected?\n" \
               "  hint: `pio device list` shows the serial ports"
    return None


def enter_bootloader(env):
    """Native USB boards (ATmega32U4 with Caterina): opening the port at 1200 baud makes the
    sketch restart into the bootloader, which shows up as another port for a few seconds;
    avrdude must talk to that one. As platform-atmelavr's BeforeUpload does, with PlatformIO's
    own TouchSerialPort and WaitForNewSerialPort."""
    upload = env.BoardConfig().get("upload", {})
    if not upload.get("use_1200bps_touch", False):
        return
    before = list_serial_ports()
    env.TouchSerialPort("$UPLOAD_PORT", 1200)
    if upload.get("wait_for_upload_port", False):
        env.Replace(UPLOAD_PORT=env.WaitForNewSerialPort(before))


def upload_firmware(target, source, env):
    """Run $UPLOADCMD: a post: script's own uploader (a Python action, such as wchisp_upload.py's)
    as it is; avrdude after the checks above, its output shown as it comes and, when no bootloader
    answered, what that usually means (avrdude only says `not in sync`)."""
    if callable(env.get("UPLOADCMD")):
        return env["UPLOADCMD"](target=target, source=source, env=env)
    problem = upload_problem(env)
    if problem:
        print(problem)
        return 1
    enter_bootloader(env)
    command = env.subst("$UPLOADCMD", target=target, source=source)
    print(command)
    proc = subprocess.Popen(command, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen = b""
    for chunk in iter(lambda: proc.stdout.read1(4096), b""):
        sys.stdout.buffer.write(chunk)
        sys.stdout.flush()
        seen = (seen + chunk)[-65536:]
    status = proc.wait()
    if status and (b"not in sync" in seen or b"programmer is not responding" in seen):
        print(f"error: no bootloader answered on {env.subst('$UPLOAD_PORT')}\n  hint: is it the board's "
              "port (`pio device list`)? A board without auto-reset needs RESET pressed just before "
              "the upload; a board with no bootloader needs one burnt with an ISP programmer")
    return status


upload = env.Alias("upload", firmware[0], [
    env.VerboseAction(env.AutodetectUploadPort, "Looking for upload port..."),
    env.VerboseAction(upload_firmware, "Uploading $SOURCE"),
])
AlwaysBuild(upload)

Default([env.Alias("buildprog", firmware), program])
