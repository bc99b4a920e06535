"""The simulated board's program (`sim/avr_board.c` on simavr), built by its Makefile when it is
missing or older than its sources (make decides): in a checkout into `sim/build/` (as `make sim`
does), for an installed package into the user cache, under a key of the sources' content, so that
site-packages is never written and two installed versions never share a build."""
from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from generator.errors import FirmwareError
from generator.paths import SIM_BINARY, SIM_DIR

NEEDS = "a C compiler, make, simavr, libsimavr-dev and libelf-dev"


def make_command() -> list[str]:
    """The make command that builds SIM_BINARY from SIM_DIR."""
    return ["make", "--no-print-directory", "-C", str(SIM_DIR), f"BUILD={SIM_BINARY.parent}"]


def _shown_command() -> str:
    """make_command as a user types it: BUILD= only when it is not the Makefile's own build/."""
    build = f" BUILD={SIM_BINARY.parent}" if SIM_BINARY.parent != SIM_DIR / "build" else ""
    return f"make -C {SIM_DIR}{build}"


BUILD_HINT = f"build it with `{_shown_command()}` (needs {NEEDS})"


def build_simulator(say: Callable[[str], None] = lambda text: print(text, flush=True)) -> Path:
    """SIM_BINARY, built first when make says it is missing or older than its sources."""
    command = make_command()
    try:
        current = subprocess.run([*command, "-q"], capture_output=True, check=False).returncode == 0
    except FileNotFoundError:
        raise FirmwareError("make is not installed: it builds the simulated board", f"install {NEEDS}") from None
    if not current:
        say(f"Building the simulated board {SIM_BINARY}")
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        if result.returncode != 0:
            raise FirmwareError(f"{result.stdout[-2000:].rstrip()}\ncould not build the simulated board {SIM_BINARY}",
                                f"it needs {NEEDS} (Debian: apt-get install gcc make simavr libsimavr-dev libelf-dev)")
    return SIM_BINARY
