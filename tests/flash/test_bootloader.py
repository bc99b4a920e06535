"""DTR/RTS pulse: each wiring is tried until the chip answers as a bootloader; lines put back after.

A pty has no modem-control lines, so reading and driving them is the seam: the test's board is
an auto-download circuit that decides, from the levels it is given, whether the chip is held in
reset and what it starts into; the chip then really answers (or not) over the pty."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from generator.errors import FirmwareError
from generator.flash.wchisp import bootloader
from testsupport.fakes.board import FakeBoard

IDLE = (True, True)  # Linux asserts both lines when a port is opened


class AutoDownload:
    """Two cross-coupled transistors: `reset_line` alone resets the chip, the other alone raises BOOT0."""

    def __init__(self, board: FakeBoard, reset_line: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
        self.board, self.reset_line = board, reset_line
        self.levels = [IDLE]
        self.in_reset = False
        board.mode = "app"
        monkeypatch.setattr(bootloader, "read_lines", lambda _fd: self.levels[-1])
        monkeypatch.setattr(bootloader, "set_lines", self.set_lines)

    def set_lines(self, _fd: int, dtr: bool, rts: bool) -> None:
        self.levels.append((dtr, rts))
        if self.reset_line is None:  # BOOT0 on a button only
            return
        line = {"dtr": dtr, "rts": rts}
        boot_line = "rts" if self.reset_line == "dtr" else "dtr"
        reset = line[self.reset_line] and not line[boot_line]
        boot = line[boot_line] and not line[self.reset_line]
        if reset:  # held in reset, the chip says nothing
            self.board.mode = "silent"
        elif self.in_reset:  # it starts: BOOT0 decides what runs
            self.board.mode = "bootloader" if boot else "app"
        self.in_reset = reset


@pytest.fixture
def board() -> Iterator[FakeBoard]:
    fake = FakeBoard()
    yield fake
    fake.close()


@pytest.mark.parametrize("reset_line", ["rts", "dtr"])
def test_the_board_wiring_is_found_and_the_lines_put_back(
    board: FakeBoard, reset_line: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    wired = AutoDownload(board, reset_line, monkeypatch)
    said = bootloader.enter_bootloader(board.path, pulse=0.001, reply_timeout=0.05)
    assert said == bootloader.Pulse(reset_line).describe()
    assert board.mode == "bootloader"  # and still is, with the lines back to idle
    assert wired.levels[-1] == IDLE
    tried = [p.reset_line for p in bootloader.PULSES].index(reset_line) + 1
    assert board.requests == [0xA1] * tried  # one identify per pulse, none after the answer


def test_a_board_without_auto_download_is_reported(board: FakeBoard, monkeypatch: pytest.MonkeyPatch) -> None:
    wired = AutoDownload(board, None, monkeypatch)
    with pytest.raises(FirmwareError, match="No DTR/RTS pulse") as failed:
        bootloader.enter_bootloader(board.path, pulse=0.001, reply_timeout=0.02)
    assert "hold BOOT, tap RESET" in failed.value.hint
    assert wired.levels[-1] == IDLE
    assert len(board.requests) == len(bootloader.PULSES)


def test_a_port_without_modem_lines_is_a_clear_error(board: FakeBoard) -> None:
    with pytest.raises(FirmwareError, match="Cannot drive DTR/RTS") as failed:
        bootloader.enter_bootloader(board.path)  # the real ioctl, on a pty: no modem lines
    assert "without --dtr-rts" in failed.value.hint


def test_a_missing_port_is_a_clear_error() -> None:
    with pytest.raises(FirmwareError, match="Cannot open /dev/ttyNOPE to pulse DTR/RTS"):
        bootloader.enter_bootloader("/dev/ttyNOPE")
