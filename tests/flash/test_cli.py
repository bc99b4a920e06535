"""`python -m generator flash` arguments and exit statuses, and PlatformIO's options turned into
a flash request (what extra_scripts/wchisp_upload.py hands over)."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from generator.errors import FirmwareError
from generator.flash import cli
from generator.flash.moonraker import DEFAULT_URL
from generator.pioenv import upload as pio_options
from generator.pioenv.options import EnvOptions
from testsupport.fakes.board import FakeBoard
from testsupport.fakes.fixtures import *  # noqa: F403 - the fixtures
from testsupport.fakes.fixtures import FakeSystem


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="generator flash")
    cli.add_arguments(parser)
    return parser.parse_args(argv)


def test_arguments_and_defaults() -> None:
    args = parse("--firmware", "out/klipper.bin")
    assert (args.firmware, args.device, args.baud, args.service, args.moonraker, args.wchisp) == (
        Path("out/klipper.bin"), None, None, None, DEFAULT_URL, None)
    assert not (args.dtr_rts or args.dry_run or args.force)
    args = parse("--firmware", "k.bin", "--device", "/dev/ttyUSB0", "--baud", "1m", "--service", "klipper-1",
                 "--moonraker", "http://pi:7125", "--wchisp", "/opt/wchisp", "--dtr-rts", "--dry-run", "--force")
    assert (args.device, args.baud, args.service, args.moonraker, args.wchisp) == (
        "/dev/ttyUSB0", "1m", "klipper-1", "http://pi:7125", "/opt/wchisp")
    assert args.dtr_rts and args.dry_run and args.force
    args = parse("--restore", "--moonraker-socket", "/run/m.sock", "--moonraker-api-key", "k")
    assert (args.restore, args.firmware, args.moonraker_socket, args.moonraker_api_key) == (
        True, None, Path("/run/m.sock"), "k")


def test_firmware_is_needed_unless_restoring(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(parse("--device", "/dev/ttyUSB0")) == 1
    assert capsys.readouterr().err.startswith("error: flash needs --firmware PATH (or --restore)")


def test_run_dry_run_prints_the_plan_and_exits_0(
    fake_system: FakeSystem, board: FakeBoard, image: Path, no_moonraker: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    status = cli.run(parse("--firmware", str(image), "--device", board.path, "--moonraker", no_moonraker, "--dry-run",
                           "--force", "--project-dir", str(tmp_path)))
    out = capsys.readouterr().out
    assert status == 0
    assert "flash: dry run: would stop klipper.service with systemctl" in out
    assert f"flash: dry run: would run: {fake_system.bin / 'wchisp'} -s -p {board.path} -b 115200 flash {image}" in out
    assert fake_system.unit("klipper.service")["state"] == "active"


def test_run_prints_errors_without_traceback_and_exits_1(
    fake_system: FakeSystem, no_moonraker: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.run(parse("--firmware", str(tmp_path / "missing.bin"), "--moonraker", no_moonraker))
    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith(f"error: Firmware image {tmp_path / 'missing.bin'} does not exist\n  hint: ")


def test_built_image_is_the_raw_bin(tmp_path: Path) -> None:
    (tmp_path / "firmware.bin").write_bytes(b"\x01")
    assert pio_options.built_image(tmp_path, "firmware") == tmp_path / "firmware.bin"


def test_built_image_refuses_to_fall_back_to_elf_or_hex(tmp_path: Path) -> None:
    (tmp_path / "firmware.elf").write_bytes(b"\x7fELF")
    (tmp_path / "firmware.hex").write_text(":00000001FF\n")
    with pytest.raises(FirmwareError, match="built firmware.elf and firmware.hex but no raw firmware.bin"):
        pio_options.built_image(tmp_path, "firmware")
    with pytest.raises(FirmwareError, match="No firmware image"):
        pio_options.built_image(tmp_path / "nothing", "firmware")


def test_klipper_image_is_relative_to_the_project(tmp_path: Path) -> None:
    assert pio_options.klipper_image(" out/klipper.bin ", tmp_path) == tmp_path / "out/klipper.bin"
    absolute = "/home/pi/klipper/out/klipper.bin"
    assert pio_options.klipper_image(absolute, tmp_path) == Path(absolute)
    with pytest.raises(FirmwareError, match="custom_klipper_image is not set"):
        pio_options.klipper_image("", tmp_path)


def test_flash_request_from_options(tmp_path: Path) -> None:
    options = {"custom_klipper_service": "klipper-2", "custom_moonraker_url": "http://pi:7125",
               "custom_moonraker_socket": "~/printer_2_data/comms/moonraker.sock", "custom_moonraker_api_key": "k",
               "custom_wchisp_path": "~/.cargo/bin/wchisp", "custom_wchisp_dtr_rts": "Yes", "board": "bmcu_c"}
    request = pio_options.flash_request(EnvOptions("bmcu_c", options), tmp_path,
                                        tmp_path / "f.bin", "/dev/ttyUSB0", "1000000")
    assert (request.device, request.baud, request.service, request.moonraker_url, request.wchisp_path,
            request.dtr_rts) == ("/dev/ttyUSB0", "1000000", "klipper-2", "http://pi:7125", "~/.cargo/bin/wchisp", True)
    assert (request.moonraker_socket, request.moonraker_api_key) == (
        Path("~/printer_2_data/comms/moonraker.sock"), "k")
    assert "'k'" not in repr(request)  # the key never shows in a repr
    bare = pio_options.flash_request(EnvOptions("bmcu_c"), tmp_path, tmp_path / "f.bin", "", "")
    assert (bare.device, bare.baud, bare.service, bare.moonraker_url, bare.wchisp_path, bare.dtr_rts) == (
        None, None, None, DEFAULT_URL, None, False)
    assert (bare.moonraker_socket, bare.moonraker_api_key) == (None, None)
    with pytest.raises(FirmwareError, match="custom_wchisp_dtr_rts = 'maybe' .*must be true or false"):
        pio_options.flash_request(EnvOptions("bmcu_c", {"custom_wchisp_dtr_rts": "maybe"}),
                                  tmp_path, tmp_path / "f.bin", "", "")
