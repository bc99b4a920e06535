"""`python -m generator simulate`: run a built firmware on a simulated board (AVR boards, the
BMCU-C's CH32V203), or an ESP8266 sketch under the ESP8266 core's host emulation."""
from __future__ import annotations

import argparse
import signal
from pathlib import Path

from generator.errors import FirmwareError
from generator.paths import DEFINITIONS


def cmd_simulate(args: argparse.Namespace) -> int:
    """Run an ELF on the simulated board, or a sketch on the host emulation, until Ctrl-C."""
    from generator.boards import board_facts  # noqa: PLC0415 - jsonschema only when used

    # Ctrl-C is how this command stops. Started with SIGINT ignored (a shell's background job
    # without job control passes it so), Python would leave it ignored: nothing could stop it but kill.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    architecture = board_facts(args.board, args.definitions).architecture
    if architecture == "esp8266":
        if args.sketch is None or args.core is None:
            raise FirmwareError(f"board {args.board} runs under the ESP8266 core's host emulation: give --sketch "
                                "(the generated .ino) and --core (esp8266/Arduino 3.1.2's folder or archive, "
                                "with tests/host)")
        from generator.sim.esp8266.simulate import simulate_sketch  # noqa: PLC0415

        simulate_sketch(args.sketch, args.core, args.cache)
        return 0
    if args.elf is None or args.baud is None:
        raise FirmwareError(f"board {args.board} runs on the simulated board: give --elf and --baud")
    from generator.sim.simulate import simulate  # noqa: PLC0415 - jsonschema only when used

    simulate(args.definitions, args.board, args.elf, args.baud, args.serial_port)
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Mount `simulate` on the main command line."""
    sim = sub.add_parser("simulate", help="run a built firmware on a simulated board (AVR boards, bmcu_c), or "
                                          "an ESP8266 sketch under the core's host emulation")
    sim.add_argument("--board", required=True, help="board definition id or PlatformIO board id")
    sim.add_argument("--elf", type=Path, help="AVR, bmcu_c: the firmware ELF")
    sim.add_argument("--baud", type=int, help="AVR, bmcu_c: the firmware's baud rate, shown for the monitor")
    sim.add_argument("--serial-port", default="", help="bmcu_c: the board's UART on the pty, e.g. USART3 "
                     "(custom_firmware_serial_port; default: the board's serial port)")
    sim.add_argument("--sketch", type=Path, help="ESP8266: the generated sketch (.ino)")
    sim.add_argument("--core", type=Path, help="ESP8266: esp8266/Arduino 3.1.2 (folder or .tar.xz) with tests/host")
    sim.add_argument("--cache", type=Path, default=Path(".pio") / "esp8266-host",
                     help="ESP8266: where the fixed core and the builds are kept (default: .pio/esp8266-host)")
    sim.add_argument("--definitions", type=Path, default=DEFINITIONS, help="definitions folder")
    sim.set_defaults(func=cmd_simulate)
