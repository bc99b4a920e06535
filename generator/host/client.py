"""Host side of the line protocol: open a port, send a request, parse the JSON reply."""
from __future__ import annotations

import json
import time
from typing import Any

import serial

from generator.errors import FirmwareError
from generator.identity import FirmwareIdentity


class BoardClient:
    """A board on a serial port, a pty, or any pyserial URL such as socket://HOST:PORT (the
    wifi_tcp transport). Use as a context manager."""

    def __init__(self, port: str, baud: int, timeout: float = 2.0) -> None:
        self.port = port
        self.timeout = timeout
        try:
            self.link = serial.serial_for_url(port, baud, timeout=timeout, exclusive=True)
        except serial.SerialException as exc:
            text = str(exc)
            if "lock" in text.lower() or "busy" in text.lower() or "Errno 16" in text:
                raise FirmwareError(f"{port} is busy: another program holds it",
                                    "close the serial monitor (or stop Klipper) and try again") from exc
            raise FirmwareError(f"cannot open {port}: {text}") from exc

    def __enter__(self) -> BoardClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.link.close()

    def request(self, line: str, timeout: float | None = None) -> dict[str, Any]:
        """Send one request line and return its parsed JSON reply."""
        self.link.reset_input_buffer()
        self.link.write(line.encode("ascii", "replace") + b"\n")
        self.link.flush()
        return self.read_reply(line, timeout if timeout is not None else self.timeout)

    def read_reply(self, request: str, timeout: float) -> dict[str, Any]:
        """Read up to a newline within `timeout`; the line must be one JSON object."""
        deadline = time.monotonic() + timeout
        raw = b""
        while not raw.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.link.timeout = left
            chunk = self.link.read_until(b"\n")
            raw += chunk
        if not raw:
            raise FirmwareError(f"no reply from {self.port} to '{request}' within {timeout:g} s",
                                "check the port, the baud rate and that the board runs this firmware")
        text = raw.decode("utf-8", "replace").strip()
        try:
            reply = json.loads(text)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            raise FirmwareError(f"{self.port} answered '{request}' with something that is not a JSON "
                                f"object: {text[:120]!r}", "is this board running generated firmware?")
        return reply

    def wait_ready(self, within: float = 5.0) -> None:
        """PING until the board answers: boards such as the Uno reset when the port opens."""
        deadline = time.monotonic() + within
        while True:
            try:
                if self.request("PING", timeout=0.5).get("ok") == 1:
                    return
            except FirmwareError:
                pass
            if time.monotonic() >= deadline:
                raise FirmwareError(f"{self.port} did not answer PING within {within:g} s",
                                    "check the port, the baud rate and that the board runs this firmware")

    def info(self) -> FirmwareIdentity:
        reply = self.request("INFO")
        if reply.get("ok") != 1:
            raise FirmwareError(f"INFO failed: {json.dumps(reply)}")
        return FirmwareIdentity.from_reply(reply)
