"""A CH32V203 on the far side of a pty, as far as the WCH serial bootloader protocol goes.

Frames and checks follow ch32-rs/wchisp v0.3.0 (f0f13c471bf04e050b987c19bc80bc394a3dca47) and
HEAD (104937111a771af0171315cf2da179b6af4f35e9), src/transport/serial.rs, src/protocol.rs and
src/flashing.rs: requests `57 ab raw sum`, replies `55 aa cmd 00 len16 payload sum`; the UID in
the read-config reply passes wchisp's check (u16 sum of its first three half-words equals the
fourth), the ISP_KEY reply is the sum of the XOR key wchisp derives from UID and chip id,
PROGRAM data arrive XORed with that key and VERIFY compares them with what was written.

`mode` is what the chip runs: "bootloader" answers as the CH32V203C8's ISP bootloader does; "app"
(Klipper firmware) answers with unrelated bytes; "silent" answers nothing. `protected` is the
read protection reported in the config bytes (writes are then ignored, so verify fails).
`stall_at` is a command (0xa4 erase, 0xa5 program, ...) from which the chip stops answering, as a
link that drops mid-flash. `custom_baud` False answers SET_BAUD with 0xfe (not supported).
"""
from __future__ import annotations

import os
import select
import threading

CHIP_ID, DEVICE_TYPE = 0x31, 0x19  # CH32V203C8T6
UID = bytes.fromhex("cdab90d7e1bd3e41")  # from wchisp issue #104: abcd + d790 + bde1 == 413e
FLASH_SIZE = 64 * 1024


def xor_key(uid: bytes, chip_id: int) -> bytes:
    """flashing.rs: every byte the UID's byte sum, the last plus the chip id."""
    s = sum(uid[:8]) & 0xFF
    return bytes([s] * 7 + [(s + chip_id) & 0xFF])


class FakeBoard:
    def __init__(self, mode: str = "bootloader", protected: bool = False) -> None:
        self.mode = mode
        self.protected = protected
        self.uid = UID
        self.stall_at: int | None = None
        self.custom_baud = True
        self.flash = bytearray(b"\xff" * FLASH_SIZE)
        self.master, slave = os.openpty()
        self.path = os.ttyname(slave)
        os.close(slave)  # only the flasher (or a fake Klipper) holds the port side
        os.set_blocking(self.master, False)  # the slave may be reopened between select and read
        self.requests: list[int] = []
        self._stalled = False
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
                buffer += os.read(self.master, 65536)
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
        if self.mode == "silent" or self._stalled or raw[0] == self.stall_at:
            self._stalled = self.mode == "bootloader"
            return b""
        if self.mode == "app":
            return b"\x7e\x10klipper\x7e"
        payload = self._payload(raw[0], raw[3:])
        body = bytes([raw[0], 0x00]) + len(payload).to_bytes(2, "little") + payload
        return b"\x55\xaa" + body + bytes([sum(body) & 0xFF])

    def _payload(self, command: int, data: bytes) -> bytes:
        key = xor_key(self.uid, CHIP_ID)
        if command == 0xA1:  # identify
            return bytes([CHIP_ID, DEVICE_TYPE])
        if command == 0xA7:  # read config: mask, RDPR/USER/DATA/WPR, BTVER, UID
            rdpr = b"\xff\x00" if self.protected else b"\xa5\x5a"
            user_data_wpr = b"\x3f\xc0\x00\xff\x00\xff\xff\xff\xff\xff"
            return b"\x1f\x00" + rdpr + user_data_wpr + b"\x00\x02\x07\x00" + self.uid
        if command == 0xC5:  # set baud: 0xfe when not supported
            return b"\xfe\x00" if not self.custom_baud else b"\x00\x00"
        if command == 0xA3:  # isp key: the sum of the XOR key
            return bytes([sum(key) & 0xFF, 0x00])
        if command == 0xA4 and not self.protected:  # erase
            self.flash[:] = b"\xff" * FLASH_SIZE
        if command in (0xA5, 0xA6) and len(data) > 5:  # program / verify: addr32, padding, XORed data
            address = int.from_bytes(data[:4], "little")
            plain = bytes(b ^ key[i % 8] for i, b in enumerate(data[5:]))
            if command == 0xA5 and not self.protected:
                self.flash[address:address + len(plain)] = plain
            if command == 0xA6 and self.flash[address:address + len(plain)] != plain:
                return b"\xf5\x00"
        return b"\x00\x00"


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
