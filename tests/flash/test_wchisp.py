"""wchisp: found in the right order, checked to run, called with its real grammar, its output shown
and logged, and its known failures explained."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from generator.errors import FirmwareError
from generator.flash.wchisp import tool as wchisp
from testsupport.fakes.board import FakeBoard
from testsupport.fakes.fixtures import *  # noqa: F403 - the fixtures
from testsupport.fakes.fixtures import FAKES, FakeSystem


class Terminal(io.StringIO):
    """What the user sees, on a terminal."""

    def isatty(self) -> bool:
        return True


def test_locate_prefers_bin_then_path_then_the_configured_path(fake_system: FakeSystem, tmp_path: Path) -> None:
    project = tmp_path / "project"
    configured = tmp_path / "tools" / "wchisp"
    configured.parent.mkdir()
    configured.symlink_to(FAKES / "wchisp.py")
    assert wchisp.locate(project, str(configured)) == (fake_system.bin / "wchisp", "PATH")
    (project / "bin").mkdir(parents=True)
    (project / "bin" / "wchisp").symlink_to(FAKES / "wchisp.py")
    assert wchisp.locate(project, str(configured)) == (project / "bin" / "wchisp", "the project's bin/")


def test_locate_falls_back_to_the_configured_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    configured = tmp_path / "wchisp"
    configured.symlink_to(FAKES / "wchisp.py")
    assert wchisp.locate(tmp_path / "project", str(configured)) == (configured, "the configured path")
    with pytest.raises(FirmwareError, match="wchisp not found") as missing:
        wchisp.locate(tmp_path / "project", str(tmp_path / "nope"))
    assert "cargo install wchisp" in missing.value.hint


def test_version_proves_it_runs(fake_system: FakeSystem, tmp_path: Path) -> None:
    assert wchisp.version(fake_system.bin / "wchisp") == "wchisp 0.3.0"
    foreign = tmp_path / "wchisp"
    foreign.write_bytes(b"\xcf\xfa\xed\xfe" + bytes(60))  # a macOS binary, say
    foreign.chmod(0o755)
    with pytest.raises(FirmwareError, match="does not run: .*Exec format error"):
        wchisp.version(foreign)


@pytest.mark.parametrize(
    ("given", "value"),
    [(None, "115200"), (115200, "115200"), ("1000000", "1m"), ("2M", "2m"), ("1_000_000", "1m")],
)
def test_baud_values(given: object, value: str) -> None:
    assert wchisp.baud_value(given) == value


def test_other_bauds_are_refused_before_anything_runs() -> None:
    with pytest.raises(FirmwareError, match="cannot flash at 9600 baud"):
        wchisp.baud_value("9600")


def test_the_command_is_the_one_the_real_grammar_accepts(
    fake_system: FakeSystem, board: FakeBoard, image: Path, tmp_path: Path
) -> None:
    argv = wchisp.command(Path("wchisp"), board.path, "1m", image)
    assert argv == ["wchisp", "-s", "-p", board.path, "-b", "1m", "flash", str(image)]
    out = io.StringIO()
    status, lines = wchisp.run(argv, tmp_path / ".pio" / "flash" / "wchisp.log", out)
    assert status == 0 and "Verify OK" in out.getvalue()
    assert fake_system.steps()[-1].startswith("wchisp flashed")


def test_output_is_shown_and_logged_and_the_status_kept(
    fake_system: FakeSystem, board: FakeBoard, image: Path, tmp_path: Path,
) -> None:
    board.protected = True
    log = tmp_path / "wchisp.log"
    out = io.StringIO()
    status, lines = wchisp.run(wchisp.command(Path("wchisp"), board.path, "115200", image), log, out)
    assert status == 1
    assert lines[-1] == "Error: Verify failed, mismatch"
    assert "Code Flash protected: true" in out.getvalue()
    logged = log.read_text().splitlines()
    assert logged[0] == f"$ wchisp -s -p {board.path} -b 115200 flash {image}"
    assert logged[1:-1] == lines and logged[-1] == "exit status 1"


def test_on_a_terminal_the_progress_bar_draws_and_the_log_keeps_final_lines(
    fake_system: FakeSystem, board: FakeBoard, image: Path, tmp_path: Path
) -> None:
    log = tmp_path / "wchisp.log"
    out = Terminal()
    status, lines = wchisp.run(wchisp.command(Path("wchisp"), board.path, "115200", image), log, out)
    assert status == 0
    assert "\r[#####" in out.getvalue()  # wchisp saw a terminal and drew its bar
    bar = [line for line in lines if line.startswith("[")]
    assert bar == ["[####################] 10240/10240"]
    assert "\r" not in log.read_text()


@pytest.mark.parametrize(
    ("said", "meaning", "hint"),
    [
        ("Error: Operation timed out", "not in bootloader mode", "hold BOOT, tap RESET"),
        ("Error: Response has invalid serial header [7e, 10]", "not in bootloader mode", "--dtr-rts"),
        ("Error: Response has incorrect checksum (12 != 34)", "not in bootloader mode", "--dtr-rts"),
        ("Error: Response data length is zero", "not in bootloader mode", "--dtr-rts"),
        ("Error: Permission denied", "no permission to open /dev/ttyUSB0", "dialout"),
        ("Error: Device or resource busy", "/dev/ttyUSB0 is held by another program", "ModemManager"),
        ("Error: Unable to acquire exclusive lock on serial port", "/dev/ttyUSB0 is held by another program",
         "ModemManager"),
        ("Error: Verify failed, mismatch", "does not read back", "Code Flash protected"),
        ("Error: No such file or directory", "/dev/ttyUSB0 went away", "by-id"),
        ("Error: Chip UID checksum failed!", "unique id reads back garbled", "115200"),
    ],
)
def test_known_errors_are_explained(said: str, meaning: str, hint: str, tmp_path: Path) -> None:
    err = wchisp.explain(1, ['08:00:00 [INFO] Opening serial port: "/dev/ttyUSB0" @ 115200 baud', said],
                         "/dev/ttyUSB0", tmp_path / "log")
    assert err.message.startswith(f"wchisp failed ({said})")
    assert meaning in err.message and hint in err.hint


CHIP = "08:00:01 [INFO] Chip: CH32V203C8T6[0x3119] (Code Flash: 64KiB)"


@pytest.mark.parametrize("said", ["Error: Operation timed out", "Error: Response has incorrect checksum (12 != 34)",
                                  "Error: isp_key checksum failed"])
def test_a_failure_after_the_chip_answered_is_a_mid_flash_failure(said: str, tmp_path: Path) -> None:
    lines = [CHIP, "08:00:01 [INFO] Code Flash protected: false", "08:00:02 [INFO] Erasing...", said]
    err = wchisp.explain(1, lines, "/dev/ttyUSB0", tmp_path / "log")
    assert "link failed in the middle of the flash" in err.message and "bootloader mode" not in err.message
    assert "partial image" in err.message and "115200" in err.hint


def test_protection_is_read_from_what_wchisp_says(tmp_path: Path) -> None:
    lines = [CHIP, "08:00:01 [INFO] Code Flash protected: true", "Error: Verify failed, mismatch"]
    err = wchisp.explain(1, lines, "/dev/ttyUSB0", tmp_path / "log")
    assert "read-protected (wchisp said `Code Flash protected: true`)" in err.message
    assert "wchisp -s -p /dev/ttyUSB0 config unprotect" in err.hint
    assert "08ab9bf" in err.hint and "#104" in err.hint and "WCHISPTool" in err.hint


@pytest.mark.parametrize("said", ["Error: idenfity chip failed", "Error: identify chip failed", "Error: erase failed",
                                  "Error: Invalid response"])
def test_messages_that_cannot_come_over_serial_are_not_guessed_at(said: str, tmp_path: Path) -> None:
    err = wchisp.explain(1, [said], "/dev/ttyUSB0", tmp_path / "wchisp.log")
    assert err.message == f"wchisp failed ({said})" and str(tmp_path / "wchisp.log") in err.hint


def test_unknown_errors_point_at_the_log(tmp_path: Path) -> None:
    err = wchisp.explain(101, ["thread 'main' panicked"], "/dev/ttyUSB0", tmp_path / "wchisp.log")
    assert err.message == "wchisp failed (exit status 101)"
    assert str(tmp_path / "wchisp.log") in err.hint


def test_fake_errors_reach_explain_end_to_end(
    fake_system: FakeSystem, board: FakeBoard, image: Path, tmp_path: Path,
) -> None:
    board.mode = "app"  # Klipper's firmware answers, not the bootloader
    argv = wchisp.command(Path("wchisp"), board.path, "115200", image)
    status, lines = wchisp.run(argv, tmp_path / "log", io.StringIO())
    err = wchisp.explain(status, lines, board.path, tmp_path / "log")
    assert "not in bootloader mode" in err.message
