"""PlatformIO's side of a flash, without PlatformIO: its options and built image -> a FlashRequest."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from generator.errors import FirmwareError
from generator.flashing.flow import FlashRequest
from generator.flashing.moonraker import DEFAULT_URL

_TRUE, _FALSE = {"1", "yes", "true", "on"}, {"", "0", "no", "false", "off"}


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
            "add `custom_klipper_image = /home/pi/klipper/out/klipper.bin` to this environment",
        )
    return project_dir / Path(option.strip()).expanduser()


def flash_request(
    option: Callable[[str, str], str], project_dir: Path, firmware: Path, upload_port: str, upload_speed: str
) -> FlashRequest:
    """A FlashRequest from the environment's options; `option(name, default)` reads one."""
    dtr_rts = option("custom_wchisp_dtr_rts", "no").strip().lower()
    if dtr_rts not in _TRUE | _FALSE:
        raise FirmwareError(f"custom_wchisp_dtr_rts = {dtr_rts} is neither yes nor no")
    return FlashRequest(
        firmware=firmware,
        project_dir=project_dir,
        device=upload_port or None,
        baud=upload_speed or None,
        service=option("custom_klipper_service", "") or None,
        moonraker_url=option("custom_moonraker_url", "") or DEFAULT_URL,
        wchisp_path=option("custom_wchisp_path", "") or None,
        dtr_rts=dtr_rts in _TRUE,
    )
