"""`pio run -t upload` and `pio run -t flash_klipper` through real PlatformIO, on a copy of the
project with an offline AVR env that selects extra_scripts/wchisp_upload.py, the fakes on PATH, a
board on a pty and Moonraker on loopback: PlatformIO's upload runs the flow, and its failure
fails `pio run`."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from testsupport import helpers
from testsupport.fakes.board import FakeBoard
from testsupport.fakes.fixtures import *  # noqa: F403 - the fixtures
from testsupport.fakes.fixtures import FakeSystem
from testsupport.fakes.moonraker import FakeMoonraker

ENV = "uno"  # the copy's default env: [platformio] default_envs names it

pytestmark = pytest.mark.skipif(
    not Path(helpers.PIO).exists() or not (helpers.real_core_dir() / "packages" / "tool-scons").is_dir(),
    reason="needs `make deps` (.venv with PlatformIO, tool-scons)",
)


@pytest.fixture
def project(
    tmp_path: Path, board: FakeBoard, moonraker: FakeMoonraker, image: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # where the flash takes its port lock
    copy = helpers.copy_project(tmp_path / "project")
    options = helpers.avr_env("uno", commands="gpio_write")
    options.update({
        "extra_scripts": "${env.extra_scripts}\npost:extra_scripts/wchisp_upload.py",
        "upload_port": board.path,
        "upload_speed": "1000000",
        "custom_moonraker_url": moonraker.url,
        "custom_klipper_image": str(image),
    })
    helpers.set_envs(copy, {ENV: options})
    yield copy


def flashed(system: FakeSystem) -> list[str]:
    return [s for s in system.steps() if s.startswith(("moonraker", "wchisp"))]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def test_pio_upload_flashes_the_built_bin_around_klipper(
    fake_system: FakeSystem, board: FakeBoard, project: Path,
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    result = helpers.run_pio(project, "run", "-e", ENV, "-t", "upload")
    assert result.returncode == 0, result.output[-4000:]
    (raw,) = helpers.build_dir(project, ENV).glob("*.bin")  # ${PROGNAME}.bin
    assert flashed(fake_system) == [
        "moonraker stop klipper",
        f"wchisp -s -p {board.path} -b 1m flash {raw}",
        "wchisp writing",
        f"wchisp flashed {sha(raw)} from {raw}",
        "moonraker start klipper",
    ]
    assert "Verify OK" in result.output and "flash: klipper.service is running again" in result.output
    assert fake_system.unit("klipper.service")["state"] == "active"
    assert "Verify OK" in (project / ".pio" / "flash" / "wchisp.log").read_text()


def test_a_failed_flash_fails_pio_run_and_klipper_comes_back(
    fake_system: FakeSystem, board: FakeBoard, project: Path
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    board.mode = "silent"  # BOOT was not held: the chip runs its firmware
    result = helpers.run_pio(project, "run", "-e", ENV, "-t", "upload")
    assert result.returncode != 0
    assert ("error: wchisp failed (Error: Operation timed out): "
            "the chip did not answer as a WCH bootloader") in result.output
    assert "Traceback" not in result.output
    assert flashed(fake_system)[-1] == "moonraker start klipper"
    assert fake_system.unit("klipper.service")["state"] == "active"


def test_flash_klipper_flashes_the_configured_image(
    fake_system: FakeSystem, board: FakeBoard, project: Path, image: Path
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    result = helpers.run_pio(project, "run", "-e", ENV, "-t", "flash_klipper")
    assert result.returncode == 0, result.output[-4000:]
    assert f"wchisp flashed {sha(image)} from {image}" in flashed(fake_system)
    assert fake_system.unit("klipper.service")["state"] == "active"
