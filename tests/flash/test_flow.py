"""The whole flash against the fakes: order of the steps, Klipper put back on every path, and
refusals that leave everything as it was."""
from __future__ import annotations

from pathlib import Path

import pytest
from serial.tools.list_ports_common import ListPortInfo

from generator.errors import FirmwareError
from generator.flash import lock
from generator.flash.wchisp import tool as wchisp
from generator.host import ports
from testsupport.fakes.board import FakeBoard
from testsupport.fakes.fixtures import *  # noqa: F403 - the fixtures
from testsupport.fakes.fixtures import FakeSystem
from testsupport.fakes.moonraker import FakeMoonraker


def actions(system: FakeSystem) -> list[str]:
    """The steps that change something, without the queries and what Moonraker ran for us."""
    return [s for s in system.steps()
            if not s.startswith(("systemctl is-active", "systemctl list-units", "systemctl show"))
            and not s.endswith("(moonraker)")
            and not s.startswith("systemd:")]


def test_flash_through_moonraker_in_order(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, flash, image: Path,
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    run = flash(moonraker_url=moonraker.url)
    run()
    assert actions(fake_system) == [
        "moonraker stop klipper",
        f"wchisp -s -p {board.path} -b 115200 flash {image}",
        "wchisp writing",
        actions(fake_system)[3],
        "moonraker start klipper",
    ]
    assert actions(fake_system)[3].startswith("wchisp flashed")
    assert fake_system.unit("klipper.service")["state"] == "active"
    assert "Verify OK" in run.out.getvalue()
    assert any(line == "klipper.service is running again" for line in run.said)
    log = run.request.project_dir / ".pio" / "flash" / "wchisp.log"
    assert "Verify OK" in log.read_text()


def test_flash_with_sudo_when_moonraker_does_not_answer(
    fake_system: FakeSystem, board: FakeBoard, flash, image: Path,
) -> None:
    fake_system.configure(root=False)
    fake_system.add_unit("klipper.service", port=board.path)
    run = flash(force=True)  # without Moonraker the print state cannot be read
    run()
    assert any("--force: flashing although the print state of klipper.service cannot be read" in line
               for line in run.said)
    assert [s for s in actions(fake_system) if not s.startswith("wchisp")] == [
        "sudo -n systemctl stop klipper.service [nopasswd]",
        "systemctl stop klipper.service [root]",
        "sudo -n systemctl start klipper.service [nopasswd]",
        "systemctl start klipper.service [root]",
    ]
    assert fake_system.unit("klipper.service")["state"] == "active"


@pytest.mark.parametrize(
    ("board_state", "meaning"),
    [({"mode": "silent"}, "not in bootloader mode"), ({"protected": True}, "read-protected"),
     ({"stall_at": 0xA5}, "link failed in the middle of the flash")],
)
def test_klipper_is_back_after_wchisp_fails(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, flash, board_state: dict, meaning: str
) -> None:
    vars(board).update(board_state)
    fake_system.add_unit("klipper.service", port=board.path)
    run = flash(moonraker_url=moonraker.url)
    with pytest.raises(FirmwareError, match=meaning):
        run()
    assert actions(fake_system)[0] == "moonraker stop klipper"
    assert actions(fake_system)[-2].startswith("wchisp failed")
    assert actions(fake_system)[-1] == "moonraker start klipper"
    assert fake_system.unit("klipper.service")["state"] == "active"


def test_klipper_is_back_after_an_exception(
    fake_system: FakeSystem, board: FakeBoard, flash, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)

    def broken(*_args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(wchisp, "run", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        flash(force=True)()
    assert actions(fake_system) == ["systemctl stop klipper.service [root]", "systemctl start klipper.service [root]"]
    assert fake_system.unit("klipper.service")["state"] == "active"


def test_klipper_is_back_after_ctrl_c_in_process(
    fake_system: FakeSystem, board: FakeBoard, flash, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)

    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(wchisp, "run", interrupted)
    with pytest.raises(FirmwareError, match="interrupted by Ctrl-C"):
        flash(force=True)()
    assert fake_system.unit("klipper.service")["state"] == "active"


def test_a_unit_that_was_stopped_stays_stopped(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, flash,
) -> None:
    fake_system.add_unit("klipper.service", state="inactive", port=board.path)
    run = flash(moonraker_url=moonraker.url)
    run()
    assert [s for s in actions(fake_system) if not s.startswith("wchisp")] == []
    assert fake_system.unit("klipper.service")["state"] == "inactive"
    assert "klipper.service is not running; it will be left stopped" in run.said


@pytest.mark.parametrize("printing", ["printing", "paused"])
def test_no_flash_during_a_print_unless_forced(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, flash, printing: str
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    fake_system.configure(moonraker={"print_state": printing})
    pid = fake_system.unit("klipper.service")["pid"]
    with pytest.raises(FirmwareError, match=f"A print is {printing} on klipper.service") as refused:
        flash(moonraker_url=moonraker.url)()
    assert "--force" in refused.value.hint
    assert actions(fake_system) == [] and fake_system.unit("klipper.service")["pid"] == pid
    forced = flash(moonraker_url=moonraker.url, force=True)
    forced()
    assert f"--force: flashing although a print is {printing}" in forced.said
    assert actions(fake_system)[0] == "moonraker stop klipper" and actions(fake_system)[-1] == "moonraker start klipper"


def test_ambiguous_ports_are_refused_before_klipper_is_touched(
    fake_system: FakeSystem, board: FakeBoard, flash, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = FakeBoard()
    try:
        listed = []
        for path in (board.path, other.path):
            info = ListPortInfo(path, skip_link_detection=True)
            info.vid, info.pid, info.description = 0x1A86, 0x7523, "USB Serial"
            listed.append(info)
        monkeypatch.setattr(ports, "comports", lambda: listed)
        monkeypatch.setattr(ports, "LINK_DIRS", ())
        fake_system.add_unit("klipper.service", port=board.path)
        with pytest.raises(FirmwareError, match="refusing to guess"):
            flash(device=None)()
        assert actions(fake_system) == []
    finally:
        other.close()


def _bad_preflight(
    case: str, tmp_path: Path, image: Path, fake_system: FakeSystem, monkeypatch: pytest.MonkeyPatch,
) -> dict:
    if case == "missing image":
        return {"firmware": tmp_path / "nope.bin"}
    if case == "ELF image":
        image.write_bytes(b"\x7fELF\x01\x01\x01" + bytes(500))
        return {}
    if case == "image too big":
        image.write_bytes(bytes(70 * 1024))
        return {}
    if case == "no wchisp":
        (fake_system.bin / "wchisp").unlink()
        return {}
    if case == "wchisp does not run":
        (tmp_path / "project" / "bin").mkdir(parents=True)
        (tmp_path / "project" / "bin" / "wchisp").write_bytes(b"\x00junk")
        (tmp_path / "project" / "bin" / "wchisp").chmod(0o755)
        return {}
    if case == "bad baud":
        return {"baud": "9600"}
    if case == "missing port":
        return {"device": "/dev/ttyUSB9"}
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    ["missing image", "ELF image", "image too big", "no wchisp", "wchisp does not run", "bad baud", "missing port"],
)
def test_each_preflight_failure_leaves_klipper_untouched(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, flash, image: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, case: str,
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    before = fake_system.unit("klipper.service")
    options = _bad_preflight(case, tmp_path, image, fake_system, monkeypatch)
    with pytest.raises(FirmwareError) as refused:
        flash(moonraker_url=moonraker.url, **options)()
    assert refused.value.hint or case == "missing port"
    assert actions(fake_system) == []
    assert fake_system.unit("klipper.service") == before  # same state, same process


@pytest.mark.parametrize("how", ["sudo needs a password", "Moonraker's sudo and ours need a password"])
def test_a_failed_stop_is_an_error_and_nothing_is_flashed(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, flash, how: str, no_moonraker: str
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    fake_system.configure(root=False, sudo="password")
    url = no_moonraker if how == "sudo needs a password" else moonraker.url
    with pytest.raises(FirmwareError, match="stop klipper.service") as failed:
        flash(moonraker_url=url, force=True)()
    if url == moonraker.url:
        assert "Error running shell command: 'sudo systemctl stop klipper'" in failed.value.message
        assert "sudo_password" in failed.value.hint
    assert not any(s.startswith("wchisp") for s in actions(fake_system))
    assert fake_system.unit("klipper.service")["state"] == "active"


def test_a_port_held_by_another_program_is_refused_before_klipper_is_stopped(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, flash, holder
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    monitor = holder(board.path)  # a serial monitor left open: stopping Klipper would not free the port
    with pytest.raises(FirmwareError, match="held by another process than klipper.service; "
                                            "not stopping anything") as refused:
        flash(moonraker_url=moonraker.url)()
    assert f"pid {monitor.pid}" in refused.value.message
    assert f"pid {fake_system.unit('klipper.service')['pid']}" not in refused.value.message  # Klipper's own
    assert actions(fake_system) == []
    assert fake_system.unit("klipper.service")["state"] == "active"


def test_dry_run_changes_nothing_and_says_everything(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, flash, image: Path, tmp_path: Path
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    before = fake_system.unit("klipper.service")
    run = flash(moonraker_url=moonraker.url, dry_run=True, dtr_rts=True)
    run()
    assert actions(fake_system) == [] and fake_system.unit("klipper.service") == before
    assert board.requests == []
    assert not (tmp_path / "project" / ".pio").exists() and not lock.LOCK_DIR.exists()
    assert run.said[-7:] == [
        f"dry run: would take the lock {lock.lock_path(board.path)}",
        f"dry run: would stop klipper.service through Moonraker ({moonraker.url})",
        f"dry run: would check that no other process holds {board.path}",
        f"dry run: would pulse DTR/RTS on {board.path} to enter the bootloader",
        f"dry run: would run: {fake_system.bin / 'wchisp'} -s -p {board.path} -b 115200 flash {image}",
        f"dry run: would start klipper.service again through Moonraker ({moonraker.url})",
        "dry run: nothing was changed",
    ]


def test_a_flash_already_running_on_the_port_is_refused(fake_system: FakeSystem, board: FakeBoard, flash) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    with lock.port_lock(board.path, "the first flash"):
        with pytest.raises(FirmwareError, match="Another flash is already running"):
            flash(force=True)()
    assert actions(fake_system) == []


def test_a_failed_restart_is_reported(fake_system: FakeSystem, board: FakeBoard, flash) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    fake_system.update_unit("klipper.service", start_fails=True)
    run = flash(force=True)
    with pytest.raises(FirmwareError, match="^Firmware flashed, but klipper.service could not be restarted") as failed:
        run()
    assert failed.value.hint == ("start it yourself (sudo systemctl start klipper.service) or run "
                                 "`python -m generator flash --restore`")
    assert any(line.startswith("could NOT restart klipper.service") for line in run.said)


def test_only_the_named_unit_is_stopped(fake_system: FakeSystem, board: FakeBoard, flash) -> None:
    fake_system.add_unit("klipper-1.service")
    fake_system.add_unit("klipper-2.service", port=board.path)
    flash(service="klipper-2", force=True)()
    assert [s for s in actions(fake_system) if not s.startswith("wchisp")] == [
        "systemctl stop klipper-2.service [root]", "systemctl start klipper-2.service [root]",
    ]
    assert fake_system.unit("klipper-1.service")["state"] == "active"


def test_a_failed_dtr_rts_pulse_still_restarts_klipper(fake_system: FakeSystem, board: FakeBoard, flash) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    with pytest.raises(FirmwareError, match="Cannot drive DTR/RTS"):
        flash(dtr_rts=True, force=True)()  # a pty has no modem lines
    assert actions(fake_system) == ["systemctl stop klipper.service [root]", "systemctl start klipper.service [root]"]
