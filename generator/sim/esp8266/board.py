"""A d1_mini sketch's host build running: UART0 on a pseudo-terminal, its WiFiServer on loopback.

`HostBoard(binary)` starts the program that `HostCore.build()` made, with UART0 (its stdin/stdout)
on a pty whose other end is `serial_port` (open it with pyserial or `BoardClient`, as the AVR
simulator's), and, for a wifi_tcp sketch, its server on 127.0.0.1 at `tcp_port` (`tcp_url` is
`socket://127.0.0.1:PORT` for `BoardClient`). `port=0` (the default) moves the server to a free
port, so that boards of several test sessions never meet; `port=None` keeps the firmware's own.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import tty
from pathlib import Path

from generator.errors import FirmwareError
from generator.sim.esp8266.fixes import LISTENING, PORT_VARIABLE

# -b: leave the terminal as it is (the pty is raw) and take UART0's bytes only from the fixed
# receive path; -S 0 -L 0: no SPIFFS/LittleFS image files written next to the binary.
OPTIONS = ("-b", "-S", "0", "-L", "0")


class HostBoard:
    """The emulated board: start it with `with HostBoard(binary) as board:`."""

    def __init__(self, binary: Path, port: int | None = 0) -> None:
        self.binary = binary.resolve()  # it runs in its own folder
        self.port = port
        self.stderr: list[str] = []
        self.tcp_port = 0
        self.serial_port = ""
        self._listening = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._fds: list[int] = []

    @property
    def tcp_url(self) -> str:
        """pyserial's URL of the board's TCP server (the wifi_tcp transport)."""
        return f"socket://127.0.0.1:{self.tcp_port}"

    @property
    def returncode(self) -> int | None:
        """None while the board runs."""
        return self._proc.poll() if self._proc else None

    def __enter__(self) -> HostBoard:
        master, slave = os.openpty()
        tty.setraw(slave)  # before the firmware writes: no echo of its output back to it
        self._fds = [master, slave]
        self.serial_port = os.ttyname(slave)
        environ = {k: v for k, v in os.environ.items() if k != PORT_VARIABLE}
        if self.port is not None:
            environ[PORT_VARIABLE] = str(self.port)
        self._proc = subprocess.Popen([str(self.binary), *OPTIONS], stdin=master, stdout=master,
                                      stderr=subprocess.PIPE, env=environ, cwd=self.binary.parent,
                                      start_new_session=True)
        threading.Thread(target=self._read_stderr, daemon=True).start()
        return self

    def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for raw in self._proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.stderr.append(line)
            if line.startswith(LISTENING):
                self.tcp_port = int(line.rsplit(":", 1)[1])
                self._listening.set()

    def wait_listening(self, timeout: float = 30.0, since: int = 0) -> int:
        """The TCP port once the server listens (again, after a restart: lines from `since` on)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(line.startswith(LISTENING) for line in self.stderr[since:]):
                return self.tcp_port
            if self.returncode is not None:
                break
            self._listening.wait(0.05)
        raise FirmwareError(f"{self.binary.name} did not start its TCP server (exit status {self.returncode}): "
                            + " | ".join(self.stderr[-10:]), "is it a wifi_tcp sketch?")

    def __exit__(self, *_: object) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                os.killpg(self._proc.pid, signal.SIGTERM)  # the mock's own Ctrl-C: loop ends, cleanup
                try:
                    self._proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(self._proc.pid, signal.SIGKILL)
                    self._proc.wait()
            if self._proc.stderr:
                self._proc.stderr.close()
        for fd in self._fds:
            os.close(fd)
        self._fds = []
