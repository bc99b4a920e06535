"""The flash on the Klipper hosts of issue 17, one group per case, each reproduced first against the
code before the fix: 1 two printers (KIAUH multi-instance), one Moonraker each, each listing every
Klipper unit; 2 lock and journal files of another user; 3 a board plugged back in under a new
/dev/ttyUSBn after a kill -9; 4 the messages (a shutdown-paused print, 404, a rejected key, a port
held by another program, a slow stop, whether the printer came back)."""
from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

from generator.errors import FirmwareError
from generator.flash import instances, journal, klipper, lock
from generator.flash.moonraker import DEFAULT_URL, Moonraker
from generator.host import ports
from testsupport.fakes import fakesys
from testsupport.fakes.board import FakeBoard
from testsupport.fakes.fixtures import *  # noqa: F403 - the fixtures
from testsupport.fakes.fixtures import FakeSystem
from testsupport.fakes.flashproc import kill_while_writing, start_flash
from testsupport.fakes.moonraker import FakeMoonraker


def ours(system: FakeSystem) -> list[str]:
    """What changed units: Moonraker's actions and our systemctl calls, not Moonraker's own."""
    return [s for s in system.steps() if s.startswith(("moonraker ", "systemctl stop", "systemctl start",
                                                       "sudo -n systemctl")) and not s.endswith("(moonraker)")]


# 1. two printers, one Moonraker each ---------------------------------------------------------

@pytest.fixture
def two_printers(fake_system: FakeSystem, kiauh_printer, board: FakeBoard) -> tuple[FakeMoonraker, FakeMoonraker]:
    """Printer 1 (its MCU elsewhere) idle; printer 2, whose [mcu] is the board, printing."""
    first = kiauh_printer(1, mcu="/dev/serial/by-id/usb-Klipper_stm32f446xx_1A0029000F50563641383620-if00")
    second = kiauh_printer(2, mcu=board.path, print_state="printing")
    return first, second


def test_1_printer_2s_print_is_never_read_from_printer_1s_moonraker(
    fake_system: FakeSystem, two_printers: tuple[FakeMoonraker, FakeMoonraker], flash,
) -> None:
    first, second = two_printers
    for server in (first, second):  # each lists every Klipper unit of the host
        assert {"klipper-1", "klipper-2"} <= set(server.core.system_info()["system_info"]["available_services"])
    pid = fake_system.unit("klipper-2.service")["pid"]
    run = flash(service="klipper-2", moonraker_url=first.url)  # the issue's command: printer 1's Moonraker
    with pytest.raises(FirmwareError, match="klipper-2.service is running and its print state cannot be read "
                                            r"\(the Moonraker given is not klipper-2.service's: "
                                            f"{first.url} belongs to klipper-1"):
        run()
    assert not any("standby" in line for line in run.said)  # printer 1's state is never taken for printer 2's
    assert ours(fake_system) == [] and fake_system.unit("klipper-2.service")["pid"] == pid
    found = flash(service="klipper-2", moonraker_url=DEFAULT_URL)  # no Moonraker named: printer 2's is found
    with pytest.raises(FirmwareError, match="A print is printing on klipper-2.service"):
        found()
    assert f"the Moonraker of klipper-2.service is at its socket {second.socket_path}" in found.said
    assert ours(fake_system) == [] and fake_system.unit("klipper-2.service")["pid"] == pid


def test_1_a_moonraker_of_another_unit_that_is_named_is_refused_naming_both(
    fake_system: FakeSystem, two_printers: tuple[FakeMoonraker, FakeMoonraker], flash,
) -> None:
    first, _ = two_printers
    fake_system.merge("moonraker-2", print_state="standby")
    run = flash(service="klipper-2", moonraker_url=first.url, moonraker_socket=first.socket_path)
    with pytest.raises(FirmwareError) as refused:
        run()
    assert "klipper-2.service" in refused.value.message and "klipper-1" in refused.value.message
    assert str(first.socket_path) in refused.value.message and "--force" in refused.value.hint
    assert ours(fake_system) == []
    forced = flash(service="klipper-2", moonraker_url=first.url, moonraker_socket=first.socket_path, force=True)
    forced()
    assert fake_system.unit("klipper-2.service")["state"] == "active"
    assert fake_system.unit("klipper-1.service")["state"] == "active"


def test_1_the_port_names_the_printer_and_its_own_moonraker_with_no_flags(
    fake_system: FakeSystem, two_printers: tuple[FakeMoonraker, FakeMoonraker], flash, board: FakeBoard,
) -> None:
    _, second = two_printers
    refused = flash(moonraker_url=DEFAULT_URL)
    with pytest.raises(FirmwareError, match="A print is printing on klipper-2.service"):
        refused()
    assert ours(fake_system) == []
    fake_system.merge("moonraker-2", print_state="standby")
    run = flash(moonraker_url=DEFAULT_URL)
    run()
    assert any(line.startswith("klipper-2.service uses this port") for line in run.said)
    assert f"print state of klipper-2.service: standby (from its Moonraker, its socket {second.socket_path})" \
        in run.said
    assert ours(fake_system) == ["moonraker stop klipper-2", "moonraker start klipper-2"]
    assert fake_system.unit("klipper-1.service")["state"] == "active"
    assert fake_system.unit("klipper-2.service")["state"] == "active"


def test_1_no_moonraker_of_the_unit_found_is_refused_naming_what_was_found(
    fake_system: FakeSystem, kiauh_printer, board: FakeBoard, flash,
) -> None:
    first = kiauh_printer(1, mcu="/dev/serial/by-id/usb-Klipper_stm32f446xx_1A0029000F50563641383620-if00")
    fake_system.add_unit("klipper-2.service", port=board.path)  # a second printer with no Moonraker of its own
    with pytest.raises(FirmwareError) as refused:
        flash(service="klipper-2", moonraker_url=first.url)()
    message = refused.value.message
    assert "klipper-2.service" in message and f"{first.url} belongs to klipper-1" in message
    assert ours(fake_system) == []


def test_1_the_config_may_name_the_board_by_its_by_id_link(
    fake_system: FakeSystem, kiauh_printer, board: FakeBoard, flash, tmp_path: Path,
) -> None:
    link = tmp_path / "by-id" / "usb-1a86_USB_Serial_5A1C012345-if00-port0"
    link.parent.mkdir()
    link.symlink_to(board.path)
    kiauh_printer(1, mcu="/dev/serial/by-id/usb-Klipper_stm32f446xx_1A0029000F50563641383620-if00")
    second = kiauh_printer(2, mcu=str(link))
    run = flash(moonraker_url=DEFAULT_URL)  # the port given as /dev/pts/N, the config names the link
    run()
    assert any(line.startswith("klipper-2.service uses this port") for line in run.said)
    assert f"the Moonraker of klipper-2.service is at its socket {second.socket_path}" in run.said
    assert ours(fake_system) == ["moonraker stop klipper-2", "moonraker start klipper-2"]


def test_1_klippy_of_a_stopped_unit_comes_from_its_environment_file(
    fake_system: FakeSystem, kiauh_printer, board: FakeBoard,
) -> None:
    kiauh_printer(2, mcu=board.path)
    running = klipper.klippy_of("klipper-2.service")  # from the running process's command line
    fake_system.update_unit("klipper-2.service", state="inactive")
    stopped = klipper.klippy_of("klipper-2.service")  # from ExecStart's $KLIPPER_ARGS in klipper.env
    data = fake_system.home / "printer_2_data"
    assert running.main_pid and not stopped.main_pid
    for klippy in (running, stopped):
        assert (klippy.config, klippy.api_socket) == (data / "config" / "printer.cfg", data / "comms" / "klippy.sock")
        assert klippy.data_dir == data
    assert instances.mcu_serials(data / "config" / "printer.cfg") == [board.path]


def test_1_mcu_serials_follow_includes_and_skip_comments(tmp_path: Path) -> None:
    (tmp_path / "hw").mkdir()
    (tmp_path / "printer.cfg").write_text(
        "[include hw/*.cfg]\n[mcu]\nserial: /dev/serial/by-id/main  # the mainboard\n"
        "#[mcu old]\n#serial: /dev/ttyUSB9\n[printer]\nkinematics: none\n")
    (tmp_path / "hw" / "bmcu.cfg").write_text("[mcu bmcu]\nserial = /dev/serial/by-id/bmcu\nbaud: 250000\n")
    (tmp_path / "hw" / "toolhead.cfg").write_text("[mcu toolhead]\ncanbus_uuid: 11aa22bb33cc\n")
    assert instances.mcu_serials(tmp_path / "printer.cfg") == ["/dev/serial/by-id/bmcu", "/dev/serial/by-id/main"]


# 3. a board plugged back in under another /dev/ttyUSBn after a kill -9 ------------------------

def test_3_a_replugged_board_is_recognised_by_its_by_id_link(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, image: Path, tmp_path: Path, flash,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    by_id = tmp_path / "serial" / "by-id"
    by_id.mkdir(parents=True)
    link = by_id / "usb-1a86_USB_Serial_5A1C012345-if00-port0"
    link.symlink_to(board.path)
    monkeypatch.setattr(ports, "LINK_DIRS", (by_id,))
    monkeypatch.setattr(lock, "LOCK_DIR", tmp_path / "tmp" / "generator-flash")
    fake_system.add_unit("klipper.service", port=str(link))
    fake_system.configure(wchisp={"hang": True})
    process = start_flash(tmp_path / "project", "--firmware", str(image), "--device", str(link), "--moonraker",
                          moonraker.url, tmpdir=tmp_path / "tmp", links=(by_id,))
    kill_while_writing(process)
    assert fake_system.unit("klipper.service")["state"] == "inactive"
    for pid in fakesys.other_holders(board.path):
        fakesys.end_process(pid)  # unplugging the board ends the orphaned wchisp's port
    replugged = FakeBoard()  # the same board, back under another device node
    try:
        link.unlink()
        link.symlink_to(replugged.path)
        fake_system.configure(wchisp={})
        run = flash(device=str(link), moonraker_url=moonraker.url)
        run()
        assert any(line.startswith(f"an unfinished flash was found: the flash of {link} started ")
                   for line in run.said)
        assert "klipper.service was stopped by that flash; it will be started again after this one" in run.said
        assert fake_system.unit("klipper.service")["state"] == "active" and journal.pending() == []
        assert replugged.flash[:image.stat().st_size] == image.read_bytes()
    finally:
        replugged.close()


def test_3_the_identity_of_a_port(tmp_path: Path) -> None:
    by_id = ports.SerialPort("/dev/ttyUSB3", by_id=["/dev/serial/by-id/usb-WCH_CH9102_5A1C0123-if00"],
                             by_path=["/dev/serial/by-path/platform-xhci-usb-0:1.2:1.0-port0"],
                             vid=0x1A86, pid=0x55D4, serial_number="5A1C0123",
                             name="/dev/serial/by-id/usb-WCH_CH9102_5A1C0123-if00")
    assert by_id.identity == "/dev/serial/by-id/usb-WCH_CH9102_5A1C0123-if00"
    shared = ports.SerialPort("/dev/ttyUSB4", by_id=["/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0"],
                              by_path=["/dev/serial/by-path/platform-xhci-usb-0:1.3:1.0-port0"],
                              vid=0x1A86, pid=0x7523, name="/dev/serial/by-path/platform-xhci-usb-0:1.3:1.0-port0")
    assert shared.identity == "/dev/serial/by-path/platform-xhci-usb-0:1.3:1.0-port0"  # two CH340s: the socket
    assert ports.SerialPort("/dev/pts/3", name="/dev/pts/3").identity == "/dev/pts/3"


# 4. the messages ---------------------------------------------------------------------------

def test_4_a_print_paused_by_a_shutdown_names_firmware_restart(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, flash,
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    Moonraker(moonraker.url).system_info()  # Klippy connected, then an emergency stop during a print:
    fake_system.configure(moonraker={"klippy": "shutdown", "message": "Shutdown due to M112 command",
                                     "print_state": "paused"})
    with pytest.raises(FirmwareError) as refused:
        flash(moonraker_url=moonraker.url)()
    assert "Klippy is shutdown: Shutdown due to M112 command" in refused.value.message
    assert "FIRMWARE_RESTART" in refused.value.hint and "--force" in refused.value.hint
    assert "wait for the print to finish" not in refused.value.hint  # Moonraker answers 400 to cancel now
    assert ours(fake_system) == []


def test_4_a_url_that_reaches_another_web_server_is_not_klippy_not_connected(
    fake_system: FakeSystem, board: FakeBoard, flash, tmp_path: Path,
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *_: None  # type: ignore[attr-defined]
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)  # a web server, not Moonraker
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{other.server_address[1]}"
        with pytest.raises(FirmwareError) as refused:
            flash(moonraker_url=url)()
    finally:
        other.shutdown()
        other.server_close()
    assert "it is some other server, not Moonraker" in refused.value.message
    assert "not connected" not in refused.value.message and f"check --moonraker ({url})" in refused.value.hint
    assert ours(fake_system) == []


def test_4_a_rejected_key_gets_its_own_diagnosis(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, flash,
) -> None:
    moonraker.socket_path.unlink()  # HTTP only
    fake_system.add_unit("klipper.service", port=board.path)
    fake_system.configure(moonraker={"trusted": False, "api_key": "3f9c2a0e5b7d4c1aa8e6f0b2d4c6e8fa"})
    with pytest.raises(FirmwareError, match="Moonraker rejects the API key given") as refused:
        flash(moonraker_url=moonraker.url, moonraker_api_key="0" * 32)()
    assert "is not Moonraker's current one" in refused.value.hint and "0" * 32 not in str(refused.value)
    assert ours(fake_system) == []


def test_4_after_the_restart_it_says_whether_the_printer_came_back(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, flash,
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    run = flash(moonraker_url=moonraker.url)
    run()
    assert run.said[-1] == "the printer of klipper.service is back: Klippy is ready"
    fake_system.configure(moonraker={"klippy": "error", "message": "mcu 'mcu': Unable to connect"})
    failed = flash(moonraker_url=moonraker.url, force=True)  # its state cannot be read: forced
    failed()  # the firmware is flashed: the printer not coming back is said, not a failed flash
    assert failed.said[-1].startswith("the printer of klipper.service is NOT ready: Klippy is in error "
                                      "(mcu 'mcu': Unable to connect)")


def test_4_without_its_own_moonraker_it_says_it_cannot_tell(
    fake_system: FakeSystem, board: FakeBoard, flash,
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    run = flash(force=True)  # no Moonraker at all
    run()
    assert run.said[-1].startswith("whether the printer of klipper.service is ready again cannot be told")
    assert fake_system.unit("klipper.service")["state"] == "active"
