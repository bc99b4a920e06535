"""A PlatformIO env's upload with wchisp, without PlatformIO: its options and image -> a FlashRequest."""
from __future__ import annotations

from pathlib import Path

from generator.errors import FirmwareError
from generator.flash import DEFAULT_URL
from generator.flash.flow import FlashRequest
from generator.pioenv.options import EnvOptions


def built_image(build_dir: Path, progname: str) -> Path:
    """The raw `.bin` PlatformIO built; refuse to fall back to its ELF or HEX."""
    raw = build_dir / f"{progname}.bin"
    if raw.is_file():
        return raw
    others = [p.name for p in (build_dir / f"{progname}.elf", build_dir / f"{progname}.hex") if p.is_file()]
    if others:
        raise FirmwareError(
            f"This platform built {' and '.join(others)} but no raw {raw.name}; wchisp needs the raw binary",
            "use a platform that outputs the .bin (platform-ch32v does), or add an `objcopy -O binary` step",
        )
    raise FirmwareError(f"No firmware image in {build_dir}", "build the environment first")


def klipper_image(option: str, project_dir: Path) -> Path:
    """The image named by custom_klipper_image, relative to the project."""
    if not option.strip():
        raise FirmwareError(
            "custom_klipper_image is not set",
            "add `custom_klipper_image = PATH` (a raw .bin built for the chip; mainline Klipper has no "
            "CH32V target, see the README for the BMCU-C port) to this environment",
        )
    return project_dir / Path(option.strip()).expanduser()


def flash_request(options: EnvOptions, project_dir: Path, firmware: Path, upload_port: str,
                  upload_speed: str) -> FlashRequest:
    """A FlashRequest from the env's options, the port given on the command line (or upload_port)
    and the user's upload_speed."""
    return FlashRequest(
        firmware=firmware,
        project_dir=project_dir,
        board=options.text("custom_firmware_board") or options.text("board"),
        device=upload_port or None,
        baud=upload_speed or None,
        service=options.text("custom_klipper_service") or None,
        moonraker_url=options.text("custom_moonraker_url", DEFAULT_URL),
        moonraker_socket=Path(options.text("custom_moonraker_socket")) if options.text("custom_moonraker_socket")
        else None,
        moonraker_api_key=options.text("custom_moonraker_api_key") or None,
        wchisp_path=options.text("custom_wchisp_path") or None,
        dtr_rts=options.flag("custom_wchisp_dtr_rts"),
    )
