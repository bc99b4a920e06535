"""The simulated CH32V203 board process: `python -m generator.sim.ch32v [options] FIRMWARE.elf`.

It speaks the AVR board's control protocol (sim/README.md: `serial: /dev/pts/N` first, then
events and commands on stdout/stdin), so `generator.sim.board.SimBoard` drives both. One USART
(`--serial`, default USART1) is bridged to the pseudo-terminal; host bytes enter it one byte time
apart at the firmware's baud rate from a 4 KiB FIFO (the pty is not read while it is full).
"""
from __future__ import annotations

import argparse
import os
import queue
import sys
import threading
import time
import tty
from pathlib import Path

from generator.sim.ch32v import chip

FIFO = 4096
SLICE = 20_000  # cycles between two looks at the pty and the commands (139 us at 144 MHz)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.sim.ch32v", description=__doc__)
    parser.add_argument("--freq", type=int, default=144_000_000, help="CPU clock in Hz")
    parser.add_argument("--mcu", default="ch32v203c8t6", help="accepted for the AVR board's command line")
    parser.add_argument("--serial", default="USART1", choices=sorted(chip.IRQ_USART), help="USART on the pty")
    parser.add_argument("--realtime", action="store_true", help="pace the simulation to the wall clock")
    parser.add_argument("--paused", action="store_true", help="start the CPU only on `run`")
    parser.add_argument("--uart-trace", action="store_true", help="emit `uart NAME BYTE START @END` per sent byte")
    parser.add_argument("--latency", action="store_true",
                        help="emit `latency N @C`: cycles from the last byte the host sent (a line's '\\n', "
                             "a frame's CRC) to the next byte written")
    parser.add_argument("elf", type=Path)
    args = parser.parse_args(argv)
    try:
        from generator.sim.ch32v.machine import Machine  # noqa: PLC0415 - unicorn only when run
    except ImportError as err:
        print(f"ch32v: {err}: the simulated CH32V203 needs Unicorn in this Python: "
              f"{sys.executable} -m pip install unicorn==2.1.3 (requirements.txt pins it)", file=sys.stderr)
        return 2
    return Board(args, Machine).loop()


class Board:
    """The pty, the command reader and the simulation loop."""

    def __init__(self, args: argparse.Namespace, machine_class: type) -> None:
        self.args = args
        self.out_lock = threading.Lock()
        self.to_host = bytearray()
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        try:
            self.machine = machine_class(args.elf, args.freq, self.emit, self.sent, trace_uart=args.uart_trace,
                                         latency=args.serial if args.latency else "")
        except (OSError, ValueError) as err:
            print(f"ch32v: {err}", file=sys.stderr)
            raise SystemExit(1) from err
        self.commands: queue.Queue[str | None] = queue.Queue()
        self.paused = args.paused
        self.running = True

    def emit(self, line: str) -> None:
        with self.out_lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        if line.startswith("unmodelled "):
            print(f"ch32v: unmodelled peripheral access: {line}", file=sys.stderr, flush=True)

    def sent(self, usart: str, byte: int) -> None:
        if usart == self.args.serial:
            self.to_host.append(byte)

    def _read_commands(self) -> None:
        for line in sys.stdin:
            self.commands.put(line.strip())
        self.commands.put(None)

    def loop(self) -> int:
        self.emit(f"serial: {os.ttyname(self.slave)}")
        threading.Thread(target=self._read_commands, daemon=True).start()
        started = time.monotonic()
        base = self.machine.now
        try:
            while self.running:
                self._commands()
                self._pty()
                if self.paused:
                    time.sleep(0.001)
                    started, base = time.monotonic(), self.machine.now
                    continue
                self.machine.run(SLICE)
                if self.args.realtime:
                    ahead = (self.machine.now - base) / self.args.freq - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
        except KeyboardInterrupt:
            pass
        finally:
            self._pty()
            os.close(self.master)
            os.close(self.slave)
        return 0

    def _pty(self) -> None:
        if self.to_host:
            try:
                done = os.write(self.master, self.to_host)
                del self.to_host[:done]
            except BlockingIOError:
                pass
            if len(self.to_host) > 16384:  # nobody reads: keep the newest
                del self.to_host[:-16384]
        room = FIFO - self.machine.inbox_size(self.args.serial)
        if room > 0:
            try:
                data = os.read(self.master, room)
            except (BlockingIOError, OSError):
                data = b""
            if data:
                self.machine.receive(self.args.serial, data)

    def _commands(self) -> None:
        while True:
            try:
                line = self.commands.get_nowait()
            except queue.Empty:
                return
            if line is None or line == "quit":
                self.running = False
                return
            try:
                replies = self._command(line.split())
            except (ValueError, IndexError) as err:
                self.emit(f"error {err}")
                continue
            for reply in replies:
                self.emit(reply)
            self.emit(f"ok @{self.machine.now}")

    def _command(self, words: list[str]) -> list[str]:
        machine, verb = self.machine, words[0] if words else ""
        if verb == "set":
            machine.set_pin(words[1], int(words[2]) & 1)
        elif verb == "release":
            machine.set_pin(words[1], None)
        elif verb == "get":
            direction, level = machine.get_pin(words[1])
            return [f"state {words[1]} {direction} {level}"]
        elif verb == "adc":
            machine.adc_mv[int(words[1])] = int(words[2])
        elif verb == "dht" and words[2:3] == ["none"]:
            machine.detach_dht(words[1])
        elif verb == "dht":
            machine.attach_dht(words[1], words[2], float(words[3]), float(words[4]))
        elif verb == "cycles":
            return [f"cycles {machine.now}"]
        elif verb == "reset":
            machine.reset()
        elif verb == "run":
            self.paused = False
        else:
            raise ValueError(f"unknown command {' '.join(words)!r}")
        return []


if __name__ == "__main__":
    sys.exit(main())
