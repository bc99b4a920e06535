"""The d1_mini firmware run, not only compiled: generated sketches built with esp8266/Arduino
3.1.2's own host emulation (the core's real WiFiClient, Print, Stream and HardwareSerial over
mocks of lwIP and the UART, fixed as generator/sim/esp8266/fixes.py says) and talked to by
`BoardClient` over TCP on loopback and over UART0's pty. What only the wifi_tcp transport does is
here; the protocol suite shared with the simulated AVR boards is in tests/sim/ (the `d1_mini`
fixture)."""
from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
from serial import SerialException

from generator.errors import FirmwareError
from generator.host.client import BoardClient
from generator.sim.esp8266.board import HostBoard
from generator.values import new_key
from testsupport import esp8266host, helpers

BUSY = b'{"ok":0,"cmd":"","error":"busy"}\n'


@pytest.fixture
def tcp(esp8266_workspace: Path) -> esp8266host.Running:
    yield from esp8266host.start("wifi_tcp", esp8266_workspace)


def connect_when_free(running: esp8266host.Running, within: float = 10.0) -> BoardClient:
    """A new client once the board has seen the last one leave: until then it answers `busy`
    and closes (resetting the connection, as lwIP does, when our PING was left unread)."""
    deadline = time.monotonic() + within
    while True:
        client = BoardClient(running.board.tcp_url, 115200, timeout=3.0)
        try:
            if client.request("PING") == {"ok": 1, "cmd": "PING"}:
                return client
        except (OSError, SerialException, FirmwareError):
            pass
        client.link.close()
        assert time.monotonic() < deadline, "the board never saw the last client leave"
        time.sleep(0.05)


def waiting_lines(link: socket.socket) -> int:
    """How many lines wait unread on a (non-blocking) socket."""
    try:
        return link.recv(65536, socket.MSG_PEEK).count(b"\n")
    except BlockingIOError:
        return 0


def test_the_shipped_d1_mini_env_runs(tmp_path: Path) -> None:
    """`python -m generator generate --env d1_mini` (hardware.ini enabled, as the README says)
    builds for the host and answers INFO with that env's selection, over Noise with the env's key."""
    esp8266host.need_archive()
    project = helpers.with_hardware_envs(tmp_path / "project").parent
    key = new_key()  # the env reads it from FIRMWARE_WIFI_KEY, as the password
    done = helpers.run_generator("generate", "--env", "d1_mini", "--project-dir", str(project),
                                 "-o", str(tmp_path / "d1_mini"),
                                 env={"FIRMWARE_WIFI_PASSWORD": "secret", "FIRMWARE_WIFI_KEY": key})
    assert done.returncode == 0, done.stderr
    with HostBoard(esp8266host.core().build(tmp_path / "d1_mini" / "d1_mini.ino")) as board:
        board.wait_listening()
        with BoardClient(board.tcp_url, 115200, timeout=3.0, key=key) as client:
            info = client.info()
            assert client.request("INFO")["auth"] == "noise"
    assert (info.board, info.transport, info.capabilities) == ("wemos_d1_mini", "wifi_tcp", ["dht_read", "relay_set"])


def test_the_server_listens_on_loopback_only(tcp: esp8266host.Running) -> None:
    assert esp8266host.listening_addresses(tcp.board.tcp_port) == ["127.0.0.1"]
    address = esp8266host.non_loopback_address()
    if address is not None:  # this machine's own non-loopback address: refused
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((address, tcp.board.tcp_port), timeout=3).close()
    assert tcp.client.request("PING") == {"ok": 1, "cmd": "PING"}


def test_a_second_client_is_told_busy_and_the_first_goes_on(tcp: esp8266host.Running) -> None:
    with socket.create_connection(("127.0.0.1", tcp.board.tcp_port), timeout=3) as second:
        reader = second.makefile("rb")
        assert reader.readline() == BUSY
        assert reader.read() == b"", "the board closes the second connection"
    assert tcp.client.request("PING") == {"ok": 1, "cmd": "PING"}


def test_the_next_client_is_served_once_the_last_one_left(tcp: esp8266host.Running) -> None:
    for _ in range(3):
        tcp.client.link.close()
        tcp.client = connect_when_free(tcp)
        assert tcp.client.request("GPIO_WRITE 5 1")["ok"] == 1


def test_a_new_client_never_inherits_half_a_frame(tcp: esp8266host.Running) -> None:
    """A client that leaves inside a frame's number (a first group sent, its last never) leaves
    nothing behind: the next client's first frame is read from its own bytes alone."""
    tcp.client.info(compact=True)
    header = tcp.client.prepare("GPIO_WRITE 5 1").data[0]
    tcp.client.write(bytes([header, 0x40 | 0x01]))
    tcp.client.link.flush()
    time.sleep(0.2)  # the board reads them before it sees the client leave
    tcp.client.link.close()
    tcp.client = connect_when_free(tcp)
    tcp.client.info(compact=True)
    assert tcp.client.request("GPIO_WRITE 5 1") == {"ok": 1, "cmd": "GPIO_WRITE", "pin": 5, "value": 1}


def test_frames_are_off_for_each_new_client(tcp: esp8266host.Running) -> None:
    """A client that turned frames on leaves; the next one starts in text, and frames it did not
    turn on are refused as bad text."""
    tcp.client.info(compact=True)
    frame = tcp.client.prepare("GPIO_WRITE 5 0").data
    assert frame[0] & 0x80 and b"\x00" in frame
    assert tcp.client.request("GPIO_WRITE 5 0") == {"ok": 1, "cmd": "GPIO_WRITE", "pin": 5, "value": 0}
    tcp.client.link.close()
    tcp.client = connect_when_free(tcp)
    tcp.client.write(frame + b"\n")
    # As text, pin 5 (zigzag 10) is the byte '\n': the header and the rest are two refused lines.
    # Both are read: request() drains what already came, but not a reply still on its way.
    assert frame[1] == ord("\n")
    for _ in range(2):
        assert tcp.client.read_reply("a frame, frames off", 3.0) == {"ok": 0, "cmd": "", "error": "bad_request"}
    assert tcp.client.request("FRAMES 1")["on"] == 1


def test_reset_restarts_the_board_and_closes_the_connection(tcp: esp8266host.Running) -> None:
    listening = len(tcp.board.stderr)
    tcp.client.info(compact=True)
    assert tcp.client.request("RESET") == {"ok": 1, "cmd": "RESET"}
    with pytest.raises(SerialException, match="socket disconnected"):  # the restarting board closed it
        tcp.client.link.read(1)
    tcp.board.wait_listening(since=listening)
    client = tcp.reconnect()
    assert client.request("GPIO_READ 5")["ok"] == 1  # as text: frames are off after a restart
    assert tcp.board.returncode is None


def test_status_lines_go_to_uart0(tcp: esp8266host.Running) -> None:
    """The wifi_tcp transport tells the user on Serial where it listens (the mock's WiFi is up at once)."""
    fd = os.open(tcp.board.serial_port, os.O_RDONLY | os.O_NOCTTY)
    try:
        seen = b""
        deadline = time.monotonic() + 10
        while b"\n" not in seen and time.monotonic() < deadline:
            seen += os.read(fd, 256)
    finally:
        os.close(fd)
    assert seen.startswith(b"wifi: connected, listening on ") and seen.endswith(b":3333\r\n"), seen


def test_stale_replies_are_dropped_before_a_request_over_tcp(tcp: esp8266host.Running) -> None:
    """Replies nobody waited for are drained before the next request, over TCP too (pyserial's
    socket:// says 1 byte is waiting whenever any is: drain() once dropped just that byte, and the
    next request got a stale reply)."""
    tcp.client.link.write(b"PING\nGPIO_WRITE 5 1\nPING\n")
    deadline = time.monotonic() + 10
    while waiting_lines(tcp.client.link._socket) < 3:  # all three replies have arrived
        assert time.monotonic() < deadline, "the board did not answer"
        time.sleep(0.01)
    assert tcp.client.request("GPIO_READ 5") == {"ok": 1, "cmd": "GPIO_READ", "pin": 5, "value": 1}


def test_100_requests_in_one_write_are_all_answered_in_order(d1_mini: esp8266host.Running) -> None:
    """Unlike the uno's 64-byte ring, the D1 mini's 256-byte UART ring (the core's default),
    drained every loop, keeps up with 115200 baud, and TCP has its own window: every request of
    a 1,500-byte write is answered, in order."""
    requests = [(pin, index % 2) for index, pin in enumerate([4, 5, 12, 13, 14] * 20)]
    d1_mini.client.write(b"".join(b"GPIO_WRITE %d %d\n" % request for request in requests))
    replies = [d1_mini.client.read_reply("GPIO_WRITE", 5.0) for _ in requests]
    assert [(r["ok"], r["pin"], r["value"]) for r in replies] == [(1, pin, value) for pin, value in requests]
    assert d1_mini.client.request("GPIO_READ 14") == {"ok": 1, "cmd": "GPIO_READ", "pin": 14, "value": 1}


def test_analog_readings_are_pushed_every_interval(d1_mini: esp8266host.Running) -> None:
    """ANALOG_WATCH pushes checksummed readings (the emulation's A0 always reads 512) between
    replies, in frames mode too, until stopped; A0 is the D1 mini's only analog pin."""
    client = d1_mini.client
    client.info(compact=True)
    assert client.request("ANALOG_WATCH A0 20") == {"ok": 1, "cmd": "ANALOG_WATCH", "pin": 17, "interval": 20,
                                                     "value": 512}
    assert [client.wait_event(3.0) for _ in range(3)] == [{"event": "ANALOG", "pin": 17, "value": 512}] * 3
    assert client.request("GPIO_READ 4")["ok"] == 1 and client.request("PING")["ok"] == 1
    assert client.request("ANALOG_WATCH A1 20")["error"] == "bad_pin"
    assert client.request("ANALOG_WATCH A0 0")["interval"] == 0
    client.events.clear()
    time.sleep(0.3)
    client.drain()
    assert client.events == [] and client.damaged_events == 0
