"""The wifi_tcp transport with a key, run: a d1_mini sketch with WIFI_KEY built under esp8266/Arduino
3.1.2's host emulation (linked with the core's own BearSSL, built for the host) and talked to over
loopback. The right key works through BoardClient (text, frames, pipelining, events); no key, a
wrong key, a captured session replayed, a flipped byte in a sealed request and plaintext are each
refused with nothing executed (the pin read back in a good session); a client that says nothing is
dropped after the handshake timeout (or, without a key, the first-request one; an idle one after
TCP_IDLE_TIMEOUT_S) and the next client gets in; the key shows in no output, log or comment."""
from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from serial import SerialException

from generator.errors import FirmwareError
from generator.host.client import BoardClient
from generator.host.noise import NoiseSession, take_message
from generator.host.probe import probe
from generator.identity import FirmwareIdentity
from generator.sim.esp8266.board import HostBoard
from testsupport import esp8266host, helpers

KEY = base64.b64encode(bytes(range(7, 39))).decode()  # what `python -m generator keygen` prints
OTHER_KEY = base64.b64encode(bytes(range(100, 132))).decode()
PIN = 5  # D1: the pin the refused requests try to set; a good session reads it back
WATCHED = 4
WAIT = 30.0  # bound on waiting for an event (a close, a status line): never the thing measured
COMMON = ["--transport", "wifi_tcp", "--commands", "gpio_write, gpio_read, gpio_watch",
          "--set", "WIFI_SSID=host-network", "--set", "WIFI_PASSWORD="]


@dataclass
class Board:
    """A running emulated D1 mini and its UART0 status lines."""

    host: HostBoard
    sketch: Path
    build_log: Path
    uart: esp8266host.StatusLines

    @property
    def port(self) -> int:
        return self.host.tcp_port

    def client(self, key: str | None = KEY) -> BoardClient:
        return esp8266host.client_when_free(self.host.tcp_url, key, WAIT)

    def status_line(self, text: bytes) -> bytes:
        return self.uart.wait(text, WAIT)

    def read_pin(self) -> int:
        with self.client() as client:
            return int(client.request(f"GPIO_READ {PIN}")["value"])


def build(workspace: Path, name: str, *settings: str) -> tuple[Path, Path]:
    """(the host binary, its sketch) of the selection with `settings`."""
    core = esp8266host.core()
    sketch = esp8266host.generate(workspace / name, name, *COMMON, *[a for s in settings for a in ("--set", s)])
    return core.build(sketch), sketch


def running(binary: Path, sketch: Path) -> Iterator[Board]:
    """The board running `binary`; its build log is next to the copy of the sketch the core built."""
    bin_dir = esp8266host.core().host_dir / "bin"
    build_log = Path("/") / binary.parent.relative_to(bin_dir) / "build.log"
    with HostBoard(binary) as host:
        host.wait_listening()
        yield Board(host, sketch, build_log, esp8266host.StatusLines(host.serial_port))


@pytest.fixture(scope="module")
def keyed_build(esp8266_workspace: Path) -> tuple[Path, Path]:
    return build(esp8266_workspace, "d1_keyed", f"WIFI_KEY={KEY}", "TCP_HANDSHAKE_TIMEOUT_MS=2000")


@pytest.fixture
def keyed(keyed_build: tuple[Path, Path]) -> Iterator[Board]:
    yield from running(*keyed_build)


def closed_by_board(sock: socket.socket) -> bytes:
    """Everything the board still sends until it closes the connection (a bounded wait)."""
    sock.settimeout(WAIT)
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


def handshake(sock: socket.socket, key: str) -> NoiseSession:
    session = NoiseSession(base64.b64decode(key))
    sock.sendall(session.hello())
    buffer = bytearray()
    while (message := take_message(buffer)) is None:
        buffer += sock.recv(4096)
    session.welcome(message)
    return session


def set_pin_low(board: Board) -> None:
    with board.client() as client:
        assert client.request(f"GPIO_WRITE {PIN} 0")["ok"] == 1


# ---- the right key -------------------------------------------------------------------------

def test_the_right_key_works_text_frames_pipelining_events(keyed: Board) -> None:
    with keyed.client() as client:
        assert client.request("PING") == {"ok": 1, "cmd": "PING"}
        info = client.request("INFO")
        assert info["auth"] == "noise" and info["transport"] == "wifi_tcp"
        assert client.request(f"GPIO_WRITE {PIN} 1") == {"ok": 1, "cmd": "GPIO_WRITE", "pin": PIN, "value": 1}
        client.info(compact=True)
        assert client.prepare(f"GPIO_READ {PIN}").data[0] & 0x80  # a binary frame, sealed like the rest
        assert client.request(f"GPIO_READ {PIN}") == {"ok": 1, "cmd": "GPIO_READ", "pin": PIN, "value": 1}
        lines = [f"GPIO_WRITE {PIN} {i % 2}" for i in range(60)] + [f"GPIO_READ {PIN}"] * 60
        replies = client.pipeline(lines)
        assert [r["ok"] for r in replies] == [1] * 120 and replies[-1]["value"] == 1
        client.info()  # text again
        assert client.request(f"GPIO_WATCH {WATCHED} 1")["ok"] == 1
        for value in (1, 0):
            client.request(f"GPIO_WRITE {WATCHED} {value}")
            assert client.wait_event(WAIT) == {"event": "GPIO_CHANGE", "pin": WATCHED, "value": value}
    assert b"handshake" in keyed.status_line(b"wifi: client authenticated, handshake ")


def test_probe_with_the_envs_key(keyed: Board) -> None:
    """`-t probe`'s check (host.probe, given the env's key) over the sealed connection."""
    expected = FirmwareIdentity.from_reply(helpers.info_reply_in_sketch(keyed.sketch.read_text(encoding="utf-8")))
    actual, differences = probe(keyed.host.tcp_url, 115200, expected, key=KEY)
    assert actual == expected and differences == []


def test_a_second_client_gets_busy_while_a_live_one_holds_the_board(keyed: Board) -> None:
    with keyed.client() as first:
        with pytest.raises(FirmwareError, match="busy"):
            BoardClient(keyed.host.tcp_url, 115200, timeout=5.0, key=KEY)
        assert first.request("PING")["ok"] == 1


# ---- refused, nothing executed ---------------------------------------------------------------

def test_no_key_is_refused(keyed: Board, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIRMWARE_WIFI_KEY", raising=False)
    set_pin_low(keyed)
    with BoardClient(keyed.host.tcp_url, 115200, timeout=5.0) as client:  # no key: plain pyserial
        client.write(f"GPIO_WRITE {PIN} 1\n".encode())  # plaintext where a handshake is due
        with pytest.raises((FirmwareError, SerialException)):
            client.read_reply(f"GPIO_WRITE {PIN} 1", WAIT)
    keyed.status_line(b"wifi: client dropped: a message failed to authenticate")
    assert keyed.read_pin() == 0


def test_plaintext_to_a_keyed_board_is_refused(keyed: Board) -> None:
    set_pin_low(keyed)
    with socket.create_connection(("127.0.0.1", keyed.port)) as sock:
        sock.sendall(f"GPIO_WRITE {PIN} 1\n".encode())
        assert closed_by_board(sock) == b""
    assert keyed.read_pin() == 0


def test_a_wrong_key_is_refused(keyed: Board) -> None:
    set_pin_low(keyed)
    with pytest.raises(FirmwareError, match="closed the connection"):
        keyed.client(key=OTHER_KEY)
    with socket.create_connection(("127.0.0.1", keyed.port)) as sock:
        sock.sendall(NoiseSession(base64.b64decode(OTHER_KEY)).hello())
        assert closed_by_board(sock) == b""
    assert keyed.read_pin() == 0


def test_a_flipped_byte_in_a_sealed_request_is_refused(keyed: Board) -> None:
    set_pin_low(keyed)
    with socket.create_connection(("127.0.0.1", keyed.port)) as sock:
        session = handshake(sock, KEY)
        sealed = bytearray(session.seal(f"GPIO_WRITE {PIN} 1\n".encode()))
        sealed[2 + 11] ^= 0x01  # the plaintext's '5' would become '4': the tag no longer holds
        sock.sendall(bytes(sealed))
        assert closed_by_board(sock) == b""
    assert keyed.read_pin() == 0


def test_a_captured_session_replayed_is_refused(keyed: Board) -> None:
    """Every byte a good client sent (its hello, a sealed GPIO_WRITE) replayed to a new connection:
    the board's fresh ephemeral key makes the old request open under no key of the new session."""
    set_pin_low(keyed)
    with socket.create_connection(("127.0.0.1", keyed.port)) as sock:
        session = NoiseSession(base64.b64decode(KEY))
        hello = session.hello()
        sock.sendall(hello)
        buffer = bytearray()
        while (message := take_message(buffer)) is None:
            buffer += sock.recv(4096)
        session.welcome(message)
        request = session.seal(f"GPIO_WRITE {PIN} 1\n".encode())
        sock.sendall(request)
        while (message := take_message(buffer)) is None:
            buffer += sock.recv(4096)
        assert b'"ok":1' in session.open(message)
    keyed.status_line(b"wifi: client left")
    set_pin_low(keyed)
    with socket.create_connection(("127.0.0.1", keyed.port)) as sock:
        sock.sendall(hello + request)
        answer = closed_by_board(sock)
        assert len(answer) == 2 + 48, "a handshake answer, then nothing: the replayed request was refused"
    assert keyed.read_pin() == 0


# ---- never held hostage ----------------------------------------------------------------------

def test_a_silent_client_is_dropped_and_the_next_gets_in(keyed: Board) -> None:
    with socket.create_connection(("127.0.0.1", keyed.port)) as silent:
        assert closed_by_board(silent) == b""
    keyed.status_line(b"wifi: client dropped: no handshake in time")
    with keyed.client() as client:
        assert client.request("PING")["ok"] == 1


@pytest.fixture(scope="module")
def open_build(esp8266_workspace: Path) -> tuple[Path, Path]:
    """No key; short timeouts for the drop tests."""
    return build(esp8266_workspace, "d1_open", "TCP_HANDSHAKE_TIMEOUT_MS=500", "TCP_IDLE_TIMEOUT_S=1")


def test_without_a_key_silent_and_idle_clients_are_dropped(open_build: tuple[Path, Path],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIRMWARE_WIFI_KEY", raising=False)
    for board in running(*open_build):
        with socket.create_connection(("127.0.0.1", board.port)) as silent:
            assert closed_by_board(silent) == b""
        board.status_line(b"wifi: client dropped: no request in time")
        with socket.create_connection(("127.0.0.1", board.port)) as idle:
            idle.sendall(b"INFO\n")
            reply = closed_by_board(idle)
        assert b'"auth":"none"' in reply
        board.status_line(b"wifi: client dropped: idle")
        with board.client(key=None) as client:
            assert client.request("PING")["ok"] == 1


# ---- hygiene ---------------------------------------------------------------------------------

def test_the_key_shows_nowhere(keyed: Board, keyed_build: tuple[Path, Path]) -> None:
    """Not in the sketch's comments (its bytes are only in the key array), the build log, the
    board's output (UART0, stderr) or the client's errors."""
    with keyed.client() as client:
        client.request("INFO")
    keyed.status_line(b"handshake")
    errors = []
    for key in (OTHER_KEY, KEY[:-4]):
        try:
            keyed.client(key=key)
        except FirmwareError as exc:
            errors.append(str(exc))
    assert len(errors) == 2
    _, sketch = keyed_build
    text = sketch.read_text(encoding="utf-8")
    raw = base64.b64decode(KEY)
    array = "{" + ", ".join(f"0x{b:02X}" for b in raw) + "}"
    assert text.count(array) == 1
    comments = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("//"))
    log = keyed.build_log.read_text(encoding="utf-8", errors="replace") if keyed.build_log.is_file() else ""
    outputs = [comments, log, bytes(keyed.uart.data).decode("latin-1"), "\n".join(keyed.host.stderr), *errors]
    for output in outputs:
        assert KEY not in output and raw.hex() not in output and raw.hex().upper() not in output
        assert f"0x{raw[0]:02X}, 0x{raw[1]:02X}" not in output
    assert text.replace(array, "").find(KEY) < 0


def test_the_keyed_sketch_builds_without_warnings(keyed: Board) -> None:
    """The core's own g++ flags (-Wall) find nothing in the sketch's lines (the Noise module and
    the sealed transport included)."""
    log = keyed.build_log.read_text(encoding="utf-8", errors="replace")
    assert "d1_keyed.ino.cpp.o" in log  # the sketch was compiled here
    assert [line for line in log.splitlines() if "d1_keyed.ino:" in line and "warning" in line] == []
