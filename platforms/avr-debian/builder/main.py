"""SConstruct of the avr-debian platform: Debian's avr-gcc toolchain, no registry packages."""
# pylint: disable=undefined-variable
from os.path import join

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
    UPLOADCMD="$UPLOADER $UPLOADERFLAGS -U flash:w:$SOURCES:i",
)

env.Append(
    ASFLAGS=["-x", "assembler-with-cpp", "-flto", "-mmcu=$BOARD_MCU"],
    CCFLAGS=["-Os", "-Wall", "-ffunction-sections", "-fdata-sections", "-flto", "-mmcu=$BOARD_MCU"],
    CFLAGS=["-std=gnu11", "-fno-fat-lto-objects"],
    CXXFLAGS=["-std=gnu++11", "-fpermissive", "-fno-exceptions", "-fno-threadsafe-statics"],
    CPPDEFINES=[("F_CPU", "$BOARD_F_CPU")],
    LINKFLAGS=["-Os", "-mmcu=$BOARD_MCU", "-flto", "-fuse-linker-plugin", "-Wl,--gc-sections"],
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

upload = env.Alias("upload", firmware[0], [
    env.VerboseAction(env.AutodetectUploadPort, "Looking for upload port..."),
    env.VerboseAction("$UPLOADCMD", "Uploading $SOURCE"),
])
AlwaysBuild(upload)

Default([env.Alias("buildprog", firmware), program])
