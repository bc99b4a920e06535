"""`python -m generator simulate --sketch`: an ESP8266 sketch built and run under the core's host
emulation until the user stops it, its links printed as the AVR simulator prints its port."""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from generator.errors import FirmwareError
from generator.sim.esp8266.board import HostBoard
from generator.sim.esp8266.core import HostCore
from generator.sim.simulate import terminal_foreground


def simulate_sketch(sketch: Path, core: Path, cache: Path,
                    say: Callable[[str], None] = lambda text: print(text, flush=True)) -> None:
    """Build `sketch` against the core at `core` (archive or folder, with tests/host), run it with
    UART0 on a pty and its WiFiServer (if any) on 127.0.0.1 at the firmware's port; Ctrl-C stops."""
    binary = HostCore.prepare(core, cache, say).build(sketch, say)
    try:
        with terminal_foreground(), HostBoard(binary, port=None) as board:
            say(f"serial: {board.serial_port}")
            say(f"simulate: {sketch.name} runs under the ESP8266 host emulation; UART0 is that port; Ctrl-C stops")
            told = False
            while board.returncode is None:
                if board.tcp_port and not told:
                    say(f"tcp: {board.tcp_url}")
                    told = True
                time.sleep(0.1)
    except KeyboardInterrupt:
        say("simulate: stopped")
        return
    raise FirmwareError(f"the emulated board stopped by itself (exit status {board.returncode}): "
                        + " | ".join(board.stderr[-5:]), "see the messages above")
