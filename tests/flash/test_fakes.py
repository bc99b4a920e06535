"""The fakes are strict: they take only the real tools' grammar and fail as the real tools do.
If they were lenient, the flow's tests could pass with a command line the real wchisp rejects."""
from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
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
    chunks = -(-image.stat().st_size // 56)  # 56-byte chunks; the write ends with an empty one, the verify not
    set_baud = [] if baud == "115200" else [0xC5]
    assert board.requests == [*set_baud, 0xA1, 0xA1, 0xA7, 0xA4, 0xA3, *[0xA5] * (chunks + 1), 0xA3, *[0xA6] * chunks]
    assert board.flash[:image.stat().st_size] == image.read_bytes()  # it really wrote the image
    if set_baud:
        assert f"Switching baudrate to: {1000000 if '1' in baud else 2000000} baud" in done.stdout


def test_fake_wchisp_prints_what_wchisp_prints(fake_system: FakeSystem, board: FakeBoard, image: Path) -> None:
    done = run("wchisp", "-s", "-p", board.path, "flash", str(image))
    messages = [line.split(" ", 2)[2] for line in done.stdout.splitlines()]
    size = image.stat().st_size
    assert messages == [
        f'Opening serial port: "{board.path}" @ 115200 baud',
        "Chip: CH32V203C8T6[0x3119] (Code Flash: 64KiB)",
        "Chip UID: CD-AB-90-D7-E1-BD-3E-41",
        "BTVER(bootloader ver): 02.70",
        "Code Flash protected: false",
        "Current config registers: a55a3fc000ff00ffffffffff",
        f"Read {image} as Binary format",
        f"Firmware size: {size}",
        "Erasing...",
        f"Erased {size // 1024 + 1} code flash sectors",
        "Erase done",
        "Writing to code flash...",
        f"Code flash {size} bytes written",
        "Verifying...",
        "Verify OK",
        "Now reset device and skip any communication errors",
        "Device reset",
    ]
    assert board.requests[-1] == 0xA2  # ISP_END


def test_fake_wchisp_pads_the_image_to_whole_sectors_as_wchisp_0_3_0_does(
    fake_system: FakeSystem, board: FakeBoard, tmp_path: Path
) -> None:
    firmware = tmp_path / "klipper.bin"
    firmware.write_bytes(bytes(range(1, 256)) * 78 + bytes(range(1, 115)))  # 20004 bytes
    assert firmware.stat().st_size == 20004
    done = run("wchisp", "-s", "-p", board.path, "flash", str(firmware))
    assert done.returncode == 0, done.stderr
    for said in ("Firmware size: 20480", "Erased 21 code flash sectors", "Code flash 20480 bytes written"):
        assert f"[INFO] {said}\n" in done.stdout
    assert board.flash[:20480] == firmware.read_bytes() + bytes(476)  # padded with zeros, as written


def test_fake_wchisp_erases_at_least_8_sectors_and_warns(fake_system: FakeSystem, board: FakeBoard,
                                                          tmp_path: Path) -> None:
    firmware = tmp_path / "small.bin"
    firmware.write_bytes(bytes(range(1, 256)) * 4)  # 1020 bytes: one sector, two to erase
    done = run("wchisp", "-s", "-p", board.path, "flash", str(firmware))
    assert "[WARN] erase_code: set min number of erased sectors to 8\n" in done.stdout
    assert "[INFO] Erased 8 code flash sectors\n" in done.stdout and "Firmware size: 1024" in done.stdout


@pytest.mark.parametrize(
    ("setup", "said"),
    [
        ({"uid": bytes(7) + b"\x01"}, "Error: Chip UID checksum failed!"),
        ({"protected": True}, "Error: Verify failed, mismatch"),
        ({"stall_at": 0xA5}, "Error: Operation timed out"),
        ({"mode": "app"}, "Error: Response has invalid serial header [7e, 10]"),
    ],
)
def test_fake_wchisp_fails_as_wchisp_does(
    fake_system: FakeSystem, board: FakeBoard, image: Path, setup: dict, said: str
) -> None:
    vars(board).update(setup)
    done = run("wchisp", "-s", "-p", board.path, "flash", str(image))
    assert (done.returncode, done.stderr.strip()) == (1, said)
    assert ("Code Flash protected: true" in done.stdout) == bool(setup.get("protected"))
    assert ("Chip: CH32V203C8T6" in done.stdout) == ("stall_at" in setup or "protected" in setup)


def test_fake_wchisp_falls_back_when_the_chip_refuses_the_baud(
    fake_system: FakeSystem, board: FakeBoard, image: Path
) -> None:
    board.custom_baud = False
    done = run("wchisp", "-s", "-p", board.path, "-b", "2m", "flash", str(image))
    assert done.returncode == 0
    assert "Custom baudrate not supported by the current chip. Using 115200" in done.stdout


def test_fake_wchisp_usb_mode_finds_no_device(fake_system: FakeSystem, image: Path) -> None:
    done = run("wchisp", "flash", str(image))
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "Error: No WCH ISP USB device found(4348:55e0 or 1a86:55e0 device not found at index #0)"
    )


@pytest.mark.parametrize(
    ("serialport", "holder_options", "said"),
    [
        ("4.5.0", ["--tiocexcl"], "Error: Device or resource busy"),
        ("4.7.3", ["--tiocexcl"], "Error: Device or resource busy"),
        ("4.9.0", ["--flock"], "Error: Unable to acquire exclusive lock on serial port"),
        ("4.5.0", ["--flock"], None),  # before 4.8 nothing notices Klipper's flock: both use the port
    ],
)
def test_fake_wchisp_opens_ports_as_its_serialport_does(
    fake_system: FakeSystem, board: FakeBoard, image: Path, holder, serialport: str, holder_options: list[str],
    said: str | None,
) -> None:
    fake_system.configure(wchisp={"serialport": serialport})
    holder(board.path, *holder_options)
    done = run("wchisp", "-s", "-p", board.path, "flash", str(image))
    if said is None:
        assert done.returncode == 0 and "Verify OK" in done.stdout
        return
    assert (done.returncode, done.stderr.strip()) == (1, said)
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


@pytest.mark.slow  # waits out a 5 s stop in real time (shorter would race a loaded machine)
def test_fake_systemctl_slow_stop_goes_on_when_systemctl_is_killed(fake_system: FakeSystem) -> None:
    fake_system.add_unit("klipper.service", stop_delay=5.0)
    process = subprocess.Popen(["systemctl", "stop", "klipper.service"])
    while fake_system.unit("klipper.service")["state"] != "deactivating":
        time.sleep(0.02)
    process.kill()  # as Moonraker's 2 s timeout does
    process.wait()
    assert run("systemctl", "is-active", "klipper.service").stdout == "deactivating\n"
    deadline = time.monotonic() + 120  # only if it never ends
    while fake_system.unit("klipper.service")["state"] != "inactive" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fake_system.unit("klipper.service")["state"] == "inactive"  # systemd's job finished it


def rpc(path: Path, message: dict) -> dict:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(path))
        sock.sendall(json.dumps(message).encode() + b"\x03")
        data = b""
        while not data.endswith(b"\x03"):
            data += sock.recv(4096)
    return json.loads(data[:-1])


def test_fake_moonraker_socket_speaks_json_rpc_with_etx(fake_system: FakeSystem, moonraker) -> None:
    fake_system.add_unit("klipper.service")
    fake_system.configure(moonraker={"trusted": False, "api_key": "secret"})  # the socket needs no key
    info = rpc(moonraker.socket_path, {"jsonrpc": "2.0", "method": "machine.system_info", "id": 7})
    assert info["id"] == 7 and info["result"]["system_info"]["instance_ids"]["klipper"] == "klipper"
    missing = rpc(moonraker.socket_path, {"jsonrpc": "2.0", "method": "no.such", "id": 8})
    assert missing == {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": 8}
    bad = rpc(moonraker.socket_path, {"jsonrpc": "1.0", "method": "machine.system_info", "id": 9})
    assert bad["error"]["code"] == -32600


def test_fake_moonraker_http_needs_the_key_in_its_header(fake_system: FakeSystem, moonraker) -> None:
    fake_system.configure(moonraker={"trusted": False, "api_key": "secret"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(moonraker.url + "/machine/system_info?api_key=secret")  # no query parameter
    body = json.load(refused.value)
    assert refused.value.code == 401 and body["error"]["code"] == 401 and body["error"]["message"] == "Unauthorized"
    assert "traceback" in body["error"]
    keyed = urllib.request.Request(moonraker.url + "/machine/system_info", headers={"X-Api-Key": "secret"})
    with urllib.request.urlopen(keyed) as answer:
        assert "system_info" in json.load(answer)["result"]
