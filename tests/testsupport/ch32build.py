"""Build the bmcu_c firmware (CH32V203) against the real openwch Arduino cores, offline.

The cores come from `../shared/cores/ch32-cores.tar.xz` (see its README.md): the main core
Community-PIO-CH32V/arduino_core_ch32 9cde8bf and the same core with openwch PR #201
(maxint-rd/arduino_core_ch32 f504b8f), with WCH GCC 8.2's newlib-nano for rv32imac. The compiler
is Debian's `gcc-riscv64-unknown-elf` (12.2). Flags, include folders and defines are those of
`../shared/tools/realcore/check.sh` (platform-ch32v's board ch32v203c8t6_evt_r0 and the core's
tools/platformio-build.py), with the two facts that README records:
- Debian's GCC ignores WCH's `interrupt("WCH-Interrupt-fast")`: the unpacked copy reads it as
  `interrupt("machine")` (full save, `mret`), which runs on the chip and in the simulator;
- the toolchain tree lacks `libstdc++.a`: `std::__throw_bad_function_call` is defined here.

Everything lands in a cache (`.pio/ch32-sim/` of the checkout) named by content: the archive
is unpacked once per archive, each core compiled once per flag set, each sketch linked once.
The archive itself is never modified.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from generator.paths import ROOT
from testsupport.helpers import SHARED_CORES, read_ini, run_generator

ARCHIVE = SHARED_CORES / "ch32-cores.tar.xz"
CACHE = ROOT / ".pio" / "ch32-sim"
CORES = ("arduino_core_ch32", "arduino_core_ch32_pr201")
CC, CXX = "riscv64-unknown-elf-gcc", "riscv64-unknown-elf-g++"
SERIES = "CH32V20x"
VARIANT = f"variants/{SERIES}/CH32V203C8"
MACHINE = ["-march=rv32imac_zicsr_zifencei", "-mabi=ilp32", "-msmall-data-limit=8", "-msave-restore"]
COMMON = [*MACHINE, "-Os", "-Wall", "-fmessage-length=0", "-fsigned-char", "-ffunction-sections",
          "-fdata-sections", "-fno-common"]
CXXFLAGS = ["-fno-threadsafe-statics", "-fno-rtti", "-fno-exceptions", "-fno-use-cxa-atexit",
            "-fpermissive", "-std=gnu++14"]
DEFINES = ["-DARDUINO=10808", "-DARDUINO_ARCH_CH32V", "-DARDUINO_ARCH_CH32",
           '-DVARIANT_H="variant_CH32V203C8.h"', "-DCH32V20x", "-DNDEBUG", "-DCH32V203C8", "-DCH32V20X",
           "-DCH32V203", "-DCH32V20x_D6", "-DPLATFORMIO=60118"]
STUB = "#include <cstdlib>\nnamespace std { void __throw_bad_function_call() { abort(); } }\n"


def missing() -> str | None:
    """Why the bmcu_c firmware cannot be built here, or None when it can."""
    if not ARCHIVE.is_file():
        return f"{ARCHIVE} is absent (the real CH32 cores; a user's own checkout has no ../shared/)"
    if shutil.which(CXX) is None:
        return f"{CXX} is missing: apt-get install gcc-riscv64-unknown-elf (make test does)"
    return None


def env_defines() -> list[str]:
    """The bmcu_c env's own -D build flags (hardware.ini.example: its SYSCLK_FREQ_144MHz_HSI),
    which PlatformIO passes to every file of the build, core included."""
    flags = read_ini(ROOT / "hardware.ini.example").get("env:bmcu_c", "build_flags", fallback="")
    return [flag for flag in flags.split() if flag.startswith("-D")]


def _digest(*parts: str | bytes) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.encode() if isinstance(part, str) else part)
        sha.update(b"\0")
    return sha.hexdigest()[:16]


def _publish(build: Path, dest: Path) -> Path:
    """Move a finished temporary folder into place (another run may have won the race)."""
    try:
        build.rename(dest)
    except OSError:
        shutil.rmtree(build, ignore_errors=True)
    return dest


def unpacked() -> Path:
    """The archive unpacked (once per archive content), WCH's interrupt attribute read as GCC's."""
    stat = ARCHIVE.stat()
    dest = CACHE / f"cores-{_digest(str(stat.st_size), str(stat.st_mtime_ns))}"
    if dest.is_dir():
        return dest
    CACHE.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(dir=CACHE, prefix="unpack-"))
    with tarfile.open(ARCHIVE) as archive:
        archive.extractall(build, filter="data")
    for core in CORES:
        for source in (build / core).rglob("*"):
            if source.suffix in (".c", ".cpp", ".h") and source.is_file():
                text = source.read_text(encoding="utf-8", errors="surrogateescape")
                if "WCH-Interrupt-fast" in text:
                    source.write_text(text.replace('interrupt("WCH-Interrupt-fast")', 'interrupt("machine")'),
                                      encoding="utf-8", errors="surrogateescape")
    return _publish(build, dest)


def _flags(tree: Path, core: str, defines: Sequence[str]) -> tuple[list[str], list[str]]:
    """(system include flags, include + define flags) for one core."""
    root = tree / core
    wch = tree / "toolchain-riscv" / "riscv-none-embed" / "include"
    system = [f"-isystem{wch / sub}" for sub in ("c++/8.2.0", "c++/8.2.0/riscv-none-embed/rv32imac/ilp32",
                                                 "c++/8.2.0/backward", "")]
    sys_dir = root / "system" / SERIES
    folders = [root / "cores/arduino", root / "cores/arduino/avr", root / "cores/arduino/ch32",
               root / "cores/arduino/ch32/lib", sys_dir / "USER", sys_dir / "SRC/Core", sys_dir / "SRC/Debug",
               sys_dir / "SRC/Startup", sys_dir / "SRC/Peripheral/inc", sys_dir / "SRC/Peripheral/src",
               root / VARIANT]
    return system, [*DEFINES, *defines, *(f"-I{folder}" for folder in folders)]


def _compile(source: Path, obj: Path, system: list[str], flags: list[str]) -> None:
    if source.suffix == ".S":
        argv = [CC, *MACHINE, "-x", "assembler-with-cpp", *flags]
    elif source.suffix == ".c":
        argv = [CC, *COMMON, "-std=gnu99", *system, *flags]
    else:
        argv = [CXX, *COMMON, *CXXFLAGS, *system, *flags]
    result = subprocess.run([*argv, "-c", str(source), "-o", str(obj)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"compiling {source} failed:\n{result.stderr}")


def core_objects(core: str, defines: Sequence[str]) -> list[Path]:
    """The core's and the variant's objects, compiled once per core and flag set."""
    tree = unpacked()
    system, flags = _flags(tree, core, defines)
    dest = CACHE / f"{core}-{_digest(tree.name, *system, *flags, *COMMON, *CXXFLAGS)}"
    if not dest.is_dir():
        build = Path(tempfile.mkdtemp(dir=CACHE, prefix="core-"))
        sources = sorted(path for folder in (tree / core / "cores/arduino", tree / core / VARIANT)
                         for path in folder.rglob("*") if path.suffix in (".c", ".cpp", ".S"))
        (build / "stub_libstdcxx.cpp").write_text(STUB)
        sources.append(build / "stub_libstdcxx.cpp")
        jobs = [(source, build / f"{index:03d}_{source.stem}.o") for index, source in enumerate(sources)]
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            list(pool.map(lambda job: _compile(*job, system, flags), jobs))
        _publish(build, dest)
    return sorted(dest.glob("*.o"))


def build_elf(sketch: Path, core: str, defines: Sequence[str] | None = None) -> Path:
    """The ELF of a generated sketch (`.ino`) linked against `core`, built once per content."""
    defines = env_defines() if defines is None else list(defines)
    objects = core_objects(core, defines)
    text = sketch.read_text(encoding="utf-8")
    dest = CACHE / "elf" / f"{core}-{_digest(text, objects[0].parent.name)}" / "firmware.elf"
    if dest.is_file():
        return dest
    tree = unpacked()
    system, flags = _flags(tree, core, defines)
    dest.parent.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(dir=dest.parent.parent, prefix="link-"))
    unit = build / f"{sketch.stem}.cpp"  # what PlatformIO compiles for an .ino
    unit.write_text(f'#include <Arduino.h>\n#line 1 "{sketch}"\n{text}', encoding="utf-8")
    _compile(unit, build / "sketch.o", system, flags)
    lib = tree / "toolchain-riscv" / "riscv-none-embed" / "lib" / "rv32imac" / "ilp32"
    libgcc = subprocess.run([CC, "-march=rv32imac", "-mabi=ilp32", "-print-libgcc-file-name"],
                            capture_output=True, text=True, check=True).stdout.strip()
    link = [CC, *MACHINE, "-Os", "-Wl,--gc-sections", "-nostartfiles", "-nostdlib",
            "-T", str(tree / core / "system" / SERIES / "SRC/Ld/Link.ld"),
            "-Wl,--defsym=__FLASH_SIZE=65536", "-Wl,--defsym=__RAM_SIZE=20480", "-Wl,--no-warn-rwx-segments",
            str(build / "sketch.o"), "-Wl,--whole-archive", *map(str, objects), "-Wl,--no-whole-archive",
            "-Wl,--start-group", *(str(lib / name) for name in ("libprintf.a", "libc_nano.a", "libm.a",
                                                               "libnosys.a", "libsupc++_nano.a")),
            libgcc, "-Wl,--end-group", "-o", str(build / "firmware.elf")]
    result = subprocess.run(link, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"linking {sketch} against {core} failed:\n{result.stderr}")
    _publish(build, dest.parent)
    return dest


def firmware(core: str, commands: str, defines: Sequence[str] | None = None, **settings: str) -> Path:
    """The bmcu_c ELF of a selection (serial_standard; `settings` such as RS485_DE_PIN="12"),
    its sketch written by `python -m generator generate` as the pre: script would; `defines`
    replace the env's -D flags."""
    sets = [arg for key, value in sorted(settings.items()) for arg in ("--set", f"{key}={value}")]
    out = CACHE / "sketches" / _digest(commands, *sets)
    result = run_generator("generate", "--board", "bmcu_c", "--transport", "serial_standard",
                           "--commands", commands, *sets, "--name", "firmware", "-o", str(out))
    if result.returncode != 0:
        raise RuntimeError(f"generating the bmcu_c sketch failed:\n{result.stdout}{result.stderr}")
    return build_elf(out / "firmware.ino", core, defines)


# The two real cores as test parameters, skipped (saying why) where ../shared/cores/ is absent.
BOARD_PARAMS = [pytest.param(f"bmcu_c:{core}", id=name,
                             marks=pytest.mark.skipif(missing() is not None, reason=f"bmcu_c: {missing()}"))
                for name, core in (("bmcu_c", CORES[0]), ("bmcu_c_pr201", CORES[1]))]
