"""A CH32V203 on the far side of a pty, as far as the WCH serial bootloader protocol goes.

`mode` is what the chip runs: "bootloader" answers identify and read-config requests as the
CH32V203C8's ISP bootloader does; "app" (Klipper firmware) answers with unrelated bytes; "silent"
answers nothing. `protected` is the read protection reported in the config bytes.
"""
from __future__ import annotations

import os
import select
import threading


class FakeBoard:
    def __init__(self, mode: str = "bootloader", protected: bool = False) -> None:
        self.mode = mode
        self.protected = protected
        self.master, slave = os.openpty()
        self.path = os.ttyname(slave)
        os.close(slave)  # only the flasher (or a fake Klipper) holds the port side
        os.set_blocking(self.master, False)  # the slave may be reopened between select and read
        self.requests: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        os.close(self.master)

    def _serve(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.02)
            if not ready:
                continue
            try:
                buffer += os.read(self.master, 4096)
            except BlockingIOError:
                continue
            except OSError:  # EIO: nobody has the port open right now
                self._stop.wait(0.01)
                continue
            while (request := _take_frame(buffer)) is not None:
                raw, buffer = request
                self.requests.append(raw[0])
                reply = self._reply(raw)
                if reply:
                    _write_all(self.master, reply)

    def _reply(self, raw: bytes) -> bytes:
        if self.mode == "silent":
            return b""
        if self.mode == "app":
            return b"\x7e\x10klipper\x7e"
        if raw[0] == 0xA1:  # identify: chip id 0x31, device type 0x19 -> CH32V203C8T6
            payload = b"\x31\x19"
        elif raw[0] == 0xA7:  # read config: mask, RDPR/USER/DATA/WPR, BTVER, UID
            rdpr = b"\xff\xff" if self.protected else b"\xa5\x5a"
            user_data_wpr = b"\x3f\xc0\x00\xff\x00\xff\xff\xff\xff\xff"
            payload = b"\x1f\x00" + rdpr + user_data_wpr + b"\x00\x02\x07\x00" + bytes(range(0xC0, 0xC8))
        else:
            payload = b"\x00\x00"
        body = bytes([raw[0], 0x00]) + len(payload).to_bytes(2, "little") + payload
        return b"\x55\xaa" + body + bytes([sum(body) & 0xFF])


def _take_frame(buffer: bytes) -> tuple[bytes, bytes] | None:
    """Split one request frame (57 ab cmd len16 payload checksum) off the front of `buffer`."""
    start = buffer.find(b"\x57\xab")
    if start < 0 or len(buffer) < start + 5:
        return None
    length = int.from_bytes(buffer[start + 3:start + 5], "little")
    end = start + 2 + 3 + length + 1
    if len(buffer) < end:
        return None
    return buffer[start + 2:end - 1], buffer[end:]


def _write_all(fd: int, data: bytes) -> None:
    while data:
        try:
            data = data[os.write(fd, data):]
        except BlockingIOError:
            select.select([], [fd], [], 0.1)
