"""The wifi_tcp transport's Noise (NNpsk0_25519_ChaChaPoly_SHA256): the firmware's responder
(definitions/transports/src/noise_nnpsk0.cpp.j2, rendered as for a keyed env) compiled for the host
against the ESP8266 core's own BearSSL (noise_native/noise_driver.cpp), talked to by the host's side
(generator.host.noise, on the `noiseprotocol` package): the handshake and messages both ways work
with the right key; a wrong key, an altered message, a message replayed in its session and a
captured session replayed to a new connection are refused with nothing answered. Also the key's
text form and `keygen`."""
from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest

from generator.errors import FirmwareError
from generator.host.noise import PLAIN_MAX, NoiseSession, key_from
from generator.paths import DEFINITIONS
from generator.values import KEY_BYTES, parse_key
from testsupport import esp8266host
from testsupport.helpers import run_generator

DRIVER = Path(__file__).parent / "noise_native" / "noise_driver.cpp"
HANDSHAKE_REFUSED, MESSAGE_REFUSED = 2, 3


@pytest.fixture(scope="module")
def responder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The driver, built with -Wall -Wextra -Werror against the core's BearSSL."""
    include, lib = esp8266host.core().bearssl()  # skips, saying why, without the core's archive
    gxx = shutil.which("g++")
    assert gxx, "g++ is missing: install Debian's g++ to run these checks"
    folder = tmp_path_factory.mktemp("noise")
    template = (DEFINITIONS / "transports" / "src" / "noise_nnpsk0.cpp.j2").read_text(encoding="utf-8")
    (folder / "noise_nnpsk0.cpp").write_text(jinja2.Template(template).render(WIFI_KEY=True), encoding="utf-8")
    exe = folder / "noise_driver"
    build = subprocess.run([gxx, "-std=gnu++17", "-Wall", "-Wextra", "-Werror", "-I", str(include),
                            "-I", str(folder), str(DRIVER), str(lib), "-o", str(exe)],
                           capture_output=True, text=True, timeout=300, check=False)
    assert build.returncode == 0, build.stderr
    return exe


class Board:
    """One run of the responder: what the host sends goes to its stdin, its answers come back."""

    def __init__(self, exe: Path, key: bytes) -> None:
        self.proc = subprocess.Popen([str(exe), key.hex()], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def send(self, data: bytes) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def answer(self) -> bytes:
        """The next framed message; b"" when the responder ended instead."""
        assert self.proc.stdout
        head = self.proc.stdout.read(2)
        return self.proc.stdout.read(int.from_bytes(head, "big")) if len(head) == 2 else b""

    def end(self) -> tuple[int, bytes]:
        """Close its input; its exit status and anything it still wrote."""
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.close()
        rest = self.proc.stdout.read()
        return self.proc.wait(timeout=60), rest


@pytest.fixture
def key() -> bytes:
    return os.urandom(KEY_BYTES)


@pytest.fixture
def board(responder: Path, key: bytes) -> Iterator[Board]:
    running = Board(responder, key)
    yield running
    if running.proc.poll() is None:
        running.end()


def connect(board: Board, key: bytes) -> NoiseSession:
    session = NoiseSession(key)
    board.send(session.hello())
    session.welcome(board.answer())
    return session


def test_handshake_and_messages_both_ways(board: Board, key: bytes) -> None:
    """Text, every byte value, and a message of the largest size go and come back sealed."""
    session = connect(board, key)
    for data in (b"@1 PING*41\n", bytes(range(256)), b"x" * PLAIN_MAX):
        sealed = session.seal(data)
        assert data not in sealed
        board.send(sealed)
        assert session.open(board.answer()) == b"got:" + data
    assert board.end() == (0, b"")


def test_wrong_key_refused_at_the_handshake(board: Board) -> None:
    session = NoiseSession(os.urandom(KEY_BYTES))
    board.send(session.hello())
    assert board.end() == (HANDSHAKE_REFUSED, b"")


@pytest.mark.parametrize("where", [2, 20, -1])  # the ciphertext's first byte, a middle one, the tag's last
def test_an_altered_message_is_refused(board: Board, key: bytes, where: int) -> None:
    session = connect(board, key)
    sealed = bytearray(session.seal(b"GPIO_WRITE 5 1\n" * 2))
    sealed[where] ^= 0x01
    board.send(bytes(sealed))
    assert board.end() == (MESSAGE_REFUSED, b"")


def test_a_message_replayed_in_its_session_is_refused(board: Board, key: bytes) -> None:
    session = connect(board, key)
    sealed = session.seal(b"GPIO_WRITE 5 1\n")
    board.send(sealed)
    assert session.open(board.answer()) == b"got:GPIO_WRITE 5 1\n"
    board.send(sealed)
    assert board.end() == (MESSAGE_REFUSED, b"")


def test_a_captured_session_replayed_to_a_new_connection_is_refused(responder: Path, board: Board,
                                                                    key: bytes) -> None:
    """The board's fresh ephemeral key makes every session's keys new: the replayed hello gets a
    handshake answer, the replayed request nothing."""
    session = NoiseSession(key)
    hello = session.hello()
    board.send(hello)
    session.welcome(board.answer())
    request = session.seal(b"GPIO_WRITE 5 1\n")
    board.send(request)
    assert session.open(board.answer()) == b"got:GPIO_WRITE 5 1\n"
    again = Board(responder, key)
    again.send(hello)
    assert len(again.answer()) == 48
    again.send(request)
    assert again.end() == (MESSAGE_REFUSED, b"")


def test_key_text_form() -> None:
    """32 bytes in base64, as keygen prints; empty is no key; anything else an error that never
    shows the text."""
    printed = run_generator("keygen").stdout.strip()
    assert len(base64.b64decode(printed, validate=True)) == KEY_BYTES
    assert parse_key(printed, "K", "here") == base64.b64decode(printed)
    assert parse_key("  ", "K", "here") == b""
    for wrong in (base64.b64encode(b"k" * 16).decode(), "not base64 at all!", printed[:-2]):
        with pytest.raises(FirmwareError) as err:
            parse_key(wrong, "WIFI_KEY", "custom_firmware_wifi_key in [env:d1]")
        assert "custom_firmware_wifi_key in [env:d1]" in str(err.value) and wrong not in str(err.value)


def test_key_from_argument_else_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = (base64.b64encode(os.urandom(KEY_BYTES)).decode() for _ in range(2))
    monkeypatch.delenv("FIRMWARE_WIFI_KEY", raising=False)
    assert key_from(None) == b""
    monkeypatch.setenv("FIRMWARE_WIFI_KEY", two)
    assert key_from(None) == base64.b64decode(two)
    assert key_from(one) == base64.b64decode(one)
