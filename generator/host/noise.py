"""The host's side of the wifi_tcp transport with a key (docs/protocol.md, "Encrypted WiFi"):
Noise_NNpsk0_25519_ChaChaPoly_SHA256 as initiator, by the `noiseprotocol` package, each Noise
message framed by its length in 2 bytes big-endian; and NoiseLink, which gives BoardClient a
socket://HOST:PORT link that seals what it writes and opens what it reads."""
from __future__ import annotations

import os
import socket
import time
from urllib.parse import urlsplit

from noise.connection import NoiseConnection
from noise.exceptions import NoiseInvalidMessage

from generator.errors import FirmwareError
from generator.values import parse_key

NAME = b"Noise_NNpsk0_25519_ChaChaPoly_SHA256"
PROLOGUE = b"firmware-generator wifi_tcp 1"
PLAIN_MAX = 512  # plaintext bytes one message carries at most (the board's buffer)
TAG = 16
KEY_VARIABLE = "FIRMWARE_WIFI_KEY"


def key_from(key: str | None, where: str = "the key argument") -> bytes:
    """The key given (base64), else FIRMWARE_WIFI_KEY's; b"" when neither is set."""
    if key:
        return parse_key(key, "the WiFi key", where)
    return parse_key(os.environ.get(KEY_VARIABLE, ""), "the WiFi key", KEY_VARIABLE)


def take_message(buffer: bytearray) -> bytes | None:
    """Cut one whole length-framed message off the front of `buffer`; None until it is whole."""
    if len(buffer) < 2:
        return None
    size = int.from_bytes(buffer[:2], "big")
    if len(buffer) < 2 + size:
        return None
    message = bytes(buffer[2:2 + size])
    del buffer[:2 + size]
    return message


def framed(message: bytes) -> bytes:
    return len(message).to_bytes(2, "big") + message


class NoiseSession:
    """One connection's Noise state, initiator side: hello(), welcome(reply), then seal/open."""

    def __init__(self, key: bytes) -> None:
        self.noise = NoiseConnection.from_name(NAME)
        self.noise.set_psks(key)
        self.noise.set_prologue(PROLOGUE)
        self.noise.set_as_initiator()
        self.noise.start_handshake()

    def hello(self) -> bytes:
        """The first message (-> psk, e), framed."""
        return framed(self.noise.write_message())

    def welcome(self, message: bytes) -> None:
        """The board's answer (<- e, ee); a board with another key fails here."""
        try:
            self.noise.read_message(message)
        except NoiseInvalidMessage:
            raise FirmwareError("the board's handshake does not authenticate: it has another key",
                                f"use the key this board was built with ({KEY_VARIABLE}, or --key)") from None

    def seal(self, data: bytes) -> bytes:
        """`data` as sealed messages of at most PLAIN_MAX plaintext bytes each, framed."""
        return b"".join(framed(self.noise.encrypt(data[at:at + PLAIN_MAX]))
                        for at in range(0, len(data), PLAIN_MAX))

    def open(self, message: bytes) -> bytes:
        try:
            return bytes(self.noise.decrypt(message))
        except NoiseInvalidMessage:
            raise FirmwareError("a message from the board does not authenticate",
                                "someone altered the traffic, or the board restarted: connect again") from None


class NoiseLink:
    """socket://HOST:PORT with the Noise handshake done: what BoardClient uses of a pyserial
    link (write, read, read_until, in_waiting, timeout, flush, close), plaintext in and out."""

    def __init__(self, url: str, key: bytes, timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme != "socket" or not parts.hostname or not parts.port:
            raise FirmwareError(f"{url}: a key works over socket://HOST:PORT only (the wifi_tcp transport)")
        self.timeout: float | None = timeout
        self.plain = bytearray()   # opened, not read yet
        self.sealed = bytearray()  # received, not a whole message yet
        try:
            self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        except OSError as exc:
            raise FirmwareError(f"cannot open {url}: {exc}") from exc
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.session = NoiseSession(key)
            self.sock.sendall(self.session.hello())
            self.session.welcome(self._handshake_reply(url, time.monotonic() + timeout))
        except BaseException:
            self.sock.close()
            raise

    def _handshake_reply(self, url: str, deadline: float) -> bytes:
        while (message := take_message(self.sealed)) is None:
            if self.sealed[:1] == b"{" and b"\n" in self.sealed:  # a line in clear: busy, or a board without a key
                line = bytes(self.sealed).decode(errors="replace").strip()
                raise FirmwareError(f"{url} answered the handshake in clear: {line}",
                                    "busy: another client holds the board, try again when it is done; else "
                                    "the board has no key (INFO says \"auth\":\"none\"): connect without one")
            if not self._receive(deadline - time.monotonic()):
                raise FirmwareError(f"{url} closed the connection during the handshake or did not answer it",
                                    "the board has another key, or no key at all (INFO says \"auth\")")
        return message

    def _receive(self, left: float) -> bool:
        """Wait up to `left` seconds for bytes (0: take those already there); False when none
        came. The board closing the connection raises."""
        if left < 0:
            return False
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(4096)
        except (BlockingIOError, TimeoutError):
            return False
        if not chunk:
            raise FirmwareError("the board closed the connection",
                                "it drops a client that sends nothing authentic, or stays idle too long")
        self.sealed += chunk
        return True

    def _open_all(self) -> None:
        while (message := take_message(self.sealed)) is not None:
            self.plain += self.session.open(message)

    def write(self, data: bytes) -> int:
        self.sock.sendall(self.session.seal(data))
        return len(data)

    def flush(self) -> None:
        """Writes leave at once (TCP_NODELAY)."""

    @property
    def in_waiting(self) -> int:
        while self._receive(0):
            pass
        self._open_all()
        return len(self.plain)

    def _deadline(self) -> float:
        return time.monotonic() + (self.timeout if self.timeout is not None else 1e9)

    def read(self, size: int = 1) -> bytes:
        """Up to `size` bytes, waiting at most `timeout` for the first."""
        deadline = self._deadline()
        self._open_all()
        while not self.plain and self._receive(deadline - time.monotonic()):
            self._open_all()
        out = bytes(self.plain[:size])
        del self.plain[:size]
        return out

    def read_until(self, expected: bytes = b"\n") -> bytes:
        deadline = self._deadline()
        self._open_all()
        while expected not in self.plain and self._receive(deadline - time.monotonic()):
            self._open_all()
        end = self.plain.find(expected)
        cut = len(self.plain) if end < 0 else end + len(expected)
        out = bytes(self.plain[:cut])
        del self.plain[:cut]
        return out

    def close(self) -> None:
        self.sock.close()
