"""The fakes are strict: they take only the real tools' grammar and fail as the real tools do.
If they were lenient, the flow's tests could pass with a command line the real wchisp rejects."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from testsupport.fakes.board import FakeBoard
from testsupport.fakes.fixtures import *  # noqa: F403 - the fixtures
from testsupport.fakes.fixtures import FakeSystem


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=20)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["flash", "x.bin", "--port", "/dev/ttyUSB0"], "unexpected argument '--port' found"),
        (["flash", "x.bin", "--baud", "115200"], "unexpected argument '--baud' found"),
        (["flash", "x.bin", "--chip", "CH32V203"], "unexpected argument '--chip' found"),
        (["-p", "/dev/ttyUSB0", "flash", "x.bin"], "required arguments were not provided:\n  --serial"),
        (["-b", "115200", "-s", "-u", "flash", "x.bin"], "'--serial' cannot be used with '--usb'"),
        (["-s", "-d", "0", "flash", "x.bin"], "'--serial' cannot be used with '--device <INDEX>'"),
        (["-s", "-b", "9600", "flash", "x.bin"], "invalid value '9600' for '--baudrate <BAUDRATE>'"),
        (["-s", "-p", "/dev/ttyUSB0", "flash"], "required arguments were not provided:\n  <PATH>"),
        (["-s", "write", "x.bin"], "unrecognized subcommand 'write'"),
        (["-s", "-p", "a", "-p", "b", "probe"], "'--port <PORT>' cannot be used multiple times"),
    ],
)
def test_fake_wchisp_rejects_what_wchisp_rejects(fake_system: FakeSystem, argv: list[str], message: str) -> None:
    done = run("wchisp", *argv)
    assert done.returncode == 2, done
    assert done.stderr.startswith("error: ") and message in done.stderr
    assert fake_system.steps() == []  # rejected before doing anything


@pytest.mark.parametrize("baud", ["115200", "1m", "1000000", "2m", "Baud2m"])
def test_fake_wchisp_accepts_the_real_grammar(
    fake_system: FakeSystem, board: FakeBoard, image: Path, baud: str,
) -> None:
    done = run("wchisp", "-s", "-p", board.path, "-b", baud, "flash", str(image), "-R")
    assert done.returncode == 0, done.stderr
    assert "Verify OK" in done.stdout and "Device reset" not in done.stdout
    assert board.requests == [0xA1, 0xA7]  # it really spoke to the board


def test_fake_wchisp_usb_mode_finds_no_device(fake_system: FakeSystem, image: Path) -> None:
    done = run("wchisp", "flash", str(image))
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "Error: No WCH ISP USB device found(4348:55e0 or 1a86:55e0 device not found at index #0)"
    )


def test_fake_wchisp_refuses_a_port_another_process_holds(
    fake_system: FakeSystem, board: FakeBoard, image: Path, holder
) -> None:
    holder(board.path)
    done = run("wchisp", "-s", "-p", board.path, "flash", str(image))
    assert (done.returncode, done.stderr.strip()) == (1, "Error: Device or resource busy")
    assert board.requests == []


def test_fake_wchisp_times_out_when_the_chip_is_not_in_its_bootloader(
    fake_system: FakeSystem, board: FakeBoard, image: Path
) -> None:
    board.mode = "silent"
    done = run("wchisp", "-s", "-p", board.path, "flash", str(image))
    assert (done.returncode, done.stderr.strip()) == (1, "Error: Operation timed out")


def test_fake_wchisp_reads_a_renamed_elf_as_elf(fake_system: FakeSystem, board: FakeBoard, tmp_path: Path) -> None:
    elf = tmp_path / "firmware.bin"
    elf.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(200))  # a 64-bit ELF, as a host gcc makes
    done = run("wchisp", "-s", "-p", board.path, "flash", str(elf))
    assert done.returncode == 1
    assert "as ELF format" in done.stdout and "Error: cannot read file as ELF32 format" in done.stderr


def test_fake_wchisp_serial_mode_without_port_and_no_ports(fake_system: FakeSystem, image: Path) -> None:
    done = run("wchisp", "-s", "flash", str(image))
    assert (done.returncode, done.stderr.strip()) == (1, "Error: No serial ports found!")


def test_fake_systemctl_is_active_uses_the_real_exit_codes(fake_system: FakeSystem) -> None:
    fake_system.add_unit("klipper.service", state="inactive")
    active = run("systemctl", "is-active", "moonraker")  # systemctl adds .service
    assert (active.stdout, active.returncode) == ("active\n", 0)
    inactive = run("systemctl", "is-active", "klipper.service")
    assert (inactive.stdout, inactive.returncode) == ("inactive\n", 3)
    assert run("systemctl", "is-active", "nosuch.service").returncode == 3


def test_fake_systemctl_keeps_state_and_needs_root_to_change_it(fake_system: FakeSystem) -> None:
    fake_system.add_unit("klipper.service", state="inactive")
    fake_system.configure(root=False)
    denied = run("systemctl", "start", "klipper.service")
    assert denied.returncode == 1
    assert "Failed to start klipper.service: Interactive authentication required." in denied.stderr
    assert fake_system.unit("klipper.service")["state"] == "inactive"
    fake_system.configure(root=True)
    assert run("systemctl", "start", "klipper").returncode == 0
    assert run("systemctl", "is-active", "klipper.service").stdout == "active\n"
    missing = run("systemctl", "stop", "nosuch.service")
    assert missing.returncode == 5
    assert missing.stderr.strip() == "Failed to stop nosuch.service: Unit nosuch.service not loaded."
    bogus = run("systemctl", "--bogus", "stop", "klipper.service")
    assert bogus.stderr.strip() == "systemctl: unrecognized option '--bogus'"


def test_fake_sudo_without_rights_fails_at_once_with_the_real_message(fake_system: FakeSystem) -> None:
    fake_system.add_unit("klipper.service")
    fake_system.configure(root=False, sudo="password")
    done = run("sudo", "-n", "systemctl", "stop", "klipper.service")
    assert (done.returncode, done.stderr) == (1, "sudo: a password is required\n")
    assert fake_system.unit("klipper.service")["state"] == "active"
    fake_system.configure(sudo="nopasswd")
    assert run("sudo", "-n", "systemctl", "stop", "klipper.service").returncode == 0
    assert fake_system.unit("klipper.service")["state"] == "inactive"
    assert run("sudo", "-k", "true").returncode == 1
