"""The d1_mini firmware under esp8266/Arduino 3.1.2's own host emulation, for the tests.

The core comes from `../shared/cores/esp8266-3.1.2-host.tar.xz` (its README; `helpers.SHARED_CORES`);
where that is absent (a user's own checkout) the tests that need it skip, saying so. The fixed copy and the built
emulated core are cached under `.pio/esp8266-host/` of the checkout, keyed by content, so the
~1.5 min of CPU the core costs is spent once, not per session; each sketch is built once per
content too (`generator.sim.esp8266.core`).
"""
from __future__ import annotations

import functools
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.errors import FirmwareError
from generator.host.client import BoardClient
from generator.paths import ROOT
from generator.sim.esp8266.board import HostBoard
from generator.sim.esp8266.core import HostCore
from testsupport import helpers

ARCHIVE = helpers.SHARED_CORES / "esp8266-3.1.2-host.tar.xz"
CACHE = ROOT / ".pio" / "esp8266-host"
# Every esp8266 command but the system ones: the protocol suite's selection.
ALL_COMMANDS = "gpio_write, gpio_read, analog_read, pwm_write, relay_set, dht_read, gpio_watch, analog_watch"
SELECTIONS = {
    "wifi_tcp": ["--transport", "wifi_tcp", "--commands", ALL_COMMANDS,
                 "--set", "WIFI_SSID=host-network", "--set", "WIFI_PASSWORD="],
    "serial_standard": ["--transport", "serial_standard", "--commands", ALL_COMMANDS],
}


def need_archive() -> Path:
    """The core archive, or skip the test saying why."""
    if not ARCHIVE.is_file():
        pytest.skip(f"{ARCHIVE} is absent (a checkout without ../shared/cores/): the ESP8266 host emulation "
                    "needs esp8266/Arduino 3.1.2's tests/host")
    return ARCHIVE


@functools.cache
def core() -> HostCore:
    """The fixed, cached copy of the core (built on the first sketch)."""
    return HostCore.prepare(need_archive(), CACHE)


def generate(out: Path, name: str, *args: str) -> Path:
    """`python -m generator generate --board d1_mini ARGS -o OUT`, the sketch renamed NAME.ino."""
    out.mkdir(parents=True, exist_ok=True)
    done = helpers.run_generator("generate", "--board", "d1_mini", *args, "-o", str(out))
    assert done.returncode == 0, done.stderr
    sketch = out / f"{name}.ino"
    (out / "firmware.ino").rename(sketch)
    return sketch


@functools.cache
def binary(transport: str, workspace: Path) -> Path:
    """The host binary of the protocol suite's selection on `transport`, built once a session."""
    need_archive()
    sketch = generate(workspace / transport, f"d1_mini_{transport}", *SELECTIONS[transport])
    return core().build(sketch)


@dataclass
class Running:
    """An emulated D1 mini and a protocol client on its link (TCP or UART0's pty)."""

    board: HostBoard
    client: BoardClient
    transport: str

    def connect(self) -> BoardClient:
        """A new client on the board's link (the TCP server, or the pty), ready."""
        link = self.board.tcp_url if self.transport == "wifi_tcp" else self.board.serial_port
        client = BoardClient(link, 115200, timeout=3.0)
        client.wait_ready(10.0)
        return client

    def reconnect(self) -> BoardClient:
        """After the board restarted: a wifi_tcp board closed the connection, so connect again;
        UART0's pty stays (the client only waits until the board answers)."""
        if self.transport == "wifi_tcp":
            self.client.link.close()
            self.client = self.connect()
        else:
            self.client.wait_ready(10.0)
        return self.client


def client_when_free(url: str, key: str | None, within: float = 30.0) -> BoardClient:
    """A ready client of a wifi_tcp board once it is free: until it has seen the last client
    leave it answers `busy` (a bounded wait for that event, never a measured time)."""
    deadline = time.monotonic() + within
    while True:
        try:
            client = BoardClient(url, 115200, timeout=5.0, key=key)
        except FirmwareError as exc:
            if "busy" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
            continue
        client.wait_ready(10.0)
        return client


class StatusLines:
    """The status lines a running board writes on UART0 (its pty), read as they come."""

    def __init__(self, serial_port: str) -> None:
        self.serial_port = serial_port
        self.data = bytearray()
        self.seen = 0  # lines already matched by wait()

    def wait(self, text: bytes, within: float = 30.0) -> bytes:
        """The next line holding `text` (after those matched before), waiting for it if need be."""
        fd = os.open(self.serial_port, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
        deadline = time.monotonic() + within
        try:
            while True:
                lines = bytes(self.data).split(b"\n")[:-1]
                for index in range(self.seen, len(lines)):
                    if text in lines[index]:
                        self.seen = index + 1
                        return lines[index].rstrip(b"\r")
                assert time.monotonic() < deadline, f"no status line with {text!r}: {bytes(self.data)!r}"
                try:
                    self.data += os.read(fd, 4096)
                except BlockingIOError:
                    time.sleep(0.02)
        finally:
            os.close(fd)


def start(transport: str, workspace: Path) -> Iterator[Running]:
    """Run the suite's sketch on `transport` with a client attached; stop both afterwards."""
    with HostBoard(binary(transport, workspace)) as board:
        if transport == "wifi_tcp":
            board.wait_listening()
        running = Running(board, BoardClient("loop://", 115200), transport)
        running.client = running.connect()
        try:
            yield running
        finally:
            running.client.link.close()


def listening_addresses(port: int) -> list[str]:
    """Local IPv4 addresses (dotted) with a socket listening on `port`, from /proc/net/tcp."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:  # 0A: TCP_LISTEN
            found.append(".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


def non_loopback_address() -> str | None:
    """An IPv4 address of this machine outside 127.0.0.0/8, if it has one (the kernel's LOCAL
    routes: an address line followed by "/32 host LOCAL")."""
    lines = Path("/proc/net/fib_trie").read_text().splitlines()
    for line, after in zip(lines, lines[1:], strict=False):
        match = re.search(r"\|-- (\d+\.\d+\.\d+\.\d+)$", line)
        if match and "/32 host LOCAL" in after and not match.group(1).startswith("127."):
            return match.group(1)
    return None
