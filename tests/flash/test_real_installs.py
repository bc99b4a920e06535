"""The flash on real Klipper installs (issue 8), one test group per problem found there, each
against fakes that behave as Moonraker, systemd_cli, wchisp and serialport really do:
1 Moonraker answering 401; 2 a KIAUH klipper-1 unit before Klippy connected; 3 a stop slower than
systemd_cli's 2 s and a stale service cache; 4 a Moonraker 500 and its hints; 5 wchisp's messages
(tests/flash/test_wchisp.py and test_fakes.py, end to end here); 6 where the image comes from;
7 a flash killed with SIGKILL; 8 a wrong URL or device. And no API key in any output."""
from __future__ import annotations

import argparse
import os
import re
import subprocess
from pathlib import Path

import pytest

from generator.errors import FirmwareError
from generator.flash import cli, flow, journal, klipper, lock
from generator.flash.moonraker import Moonraker
from generator.paths import ROOT
from testsupport.fakes import fakesys
from testsupport.fakes.board import FakeBoard
from testsupport.fakes.fixtures import *  # noqa: F403 - the fixtures
from testsupport.fakes.fixtures import FakeSystem
from testsupport.fakes.flashproc import kill_while_writing, start_flash
from testsupport.fakes.moonraker import FakeMoonraker

KEY = "3f9c2a0e5b7d4c1aa8e6f0b2d4c6e8fa"  # a Moonraker API key's shape: 32 hex digits


def ours(system: FakeSystem) -> list[str]:
    """What changed units: Moonraker's actions and our systemctl calls, not Moonraker's own."""
    return [s for s in system.steps() if s.startswith(("moonraker ", "systemctl stop", "systemctl start",
                                                       "sudo -n systemctl")) and not s.endswith("(moonraker)")]


# 1. Moonraker answering 401 -------------------------------------------------------------------

def test_1_a_401_is_a_refusal_not_an_absent_moonraker(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, flash
) -> None:
    moonraker.socket_path.unlink()  # HTTP only: no socket where the flash could find it keyless
    fake_system.add_unit("klipper.service", port=board.path)
    fake_system.configure(moonraker={"trusted": False, "api_key": KEY})
    pid = fake_system.unit("klipper.service")["pid"]
    run = flash(moonraker_url=moonraker.url)
    with pytest.raises(FirmwareError, match=r"print state cannot be read \(Moonraker refuses us") as refused:
        run()
    assert "--moonraker-api-key" in refused.value.hint and "trusted_clients" in refused.value.hint
    assert "--moonraker-socket" in refused.value.hint and "--force" in refused.value.hint
    assert f"Moonraker at {moonraker.url} refuses us (GET /machine/system_info: HTTP 401 Unauthorized)" in run.said
    assert ours(fake_system) == [] and fake_system.unit("klipper.service")["pid"] == pid  # untouched


def test_1_with_the_api_key_the_print_state_is_read_and_a_print_protected(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, flash, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    fake_system.configure(moonraker={"trusted": False, "api_key": KEY, "print_state": "printing"})
    with pytest.raises(FirmwareError, match="A print is printing on klipper.service"):
        flash(moonraker_url=moonraker.url, moonraker_api_key=KEY)()
    monkeypatch.setenv("MOONRAKER_API_KEY", KEY)  # the same from the environment
    with pytest.raises(FirmwareError, match="A print is printing on klipper.service"):
        flash(moonraker_url=moonraker.url)()
    fake_system.configure(moonraker={"trusted": False, "api_key": KEY, "print_state": "standby"})
    run = flash(moonraker_url=moonraker.url)
    run()
    assert ours(fake_system) == ["moonraker stop klipper", "moonraker start klipper"]
    assert all(request["headers"].get("X-Api-Key") == KEY for request in moonraker.requests[-3:])
    assert not any("api_key" in request["path"] for request in moonraker.requests)  # header only


def test_1_the_socket_needs_no_key(fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, flash,
                                   no_moonraker: str) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    fake_system.configure(moonraker={"trusted": False, "api_key": KEY})
    run = flash(moonraker_url="http://localhost:7125")  # the default: the default socket when it is there
    run()
    assert f"Moonraker answers at its socket {moonraker.socket_path}" in run.said
    assert ours(fake_system) == ["moonraker stop klipper", "moonraker start klipper"]
    assert moonraker.requests == []  # nothing over HTTP
    named = flash(moonraker_url=no_moonraker, moonraker_socket=moonraker.socket_path)
    named()
    assert f"Moonraker answers at its socket {moonraker.socket_path}" in named.said


def test_1_force_flashes_with_systemctl_when_moonraker_refuses(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, flash
) -> None:
    moonraker.socket_path.unlink()  # HTTP only: no socket where the flash could find it keyless
    fake_system.add_unit("klipper.service", port=board.path)
    fake_system.configure(moonraker={"trusted": False, "api_key": KEY})
    run = flash(moonraker_url=moonraker.url, moonraker_api_key="wrong", force=True)
    run()
    assert any(line.startswith("--force: flashing although the print state of klipper.service cannot be read "
                               "(Moonraker rejects the API key given") for line in run.said)
    assert ours(fake_system) == ["systemctl stop klipper.service [root]", "systemctl start klipper.service [root]"]
    assert fake_system.unit("klipper.service")["state"] == "active"


# 2. KIAUH's klipper-1 while Klippy has not connected ------------------------------------------

def test_2_moonraker_default_instance_id_is_not_taken_for_the_unit(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, flash
) -> None:
    fake_system.add_unit("klipper-1.service", port=board.path)
    fake_system.configure(moonraker={"instance": "klipper-1", "klippy": "never"})
    assert Moonraker(moonraker.url).system_info()["instance_ids"]["klipper"] == "klipper"  # as the real one says
    run = flash(moonraker_url=moonraker.url)
    with pytest.raises(FirmwareError, match="klipper-1.service is running and its print state cannot be read "
                                            f"\\(no Moonraker of klipper-1.service was found \\(Moonrakers seen: "
                                            f"{moonraker.url} has not seen a Klippy connect since it started"):
        run()
    assert "klipper-1.service is running" in run.said
    forced = flash(moonraker_url=moonraker.url, force=True)
    forced()
    assert ours(fake_system) == ["moonraker stop klipper-1", "moonraker start klipper-1"]
    assert fake_system.unit("klipper-1.service")["state"] == "active"


def test_2_an_instance_id_moonraker_manages_is_used(fake_system: FakeSystem, moonraker: FakeMoonraker) -> None:
    fake_system.add_unit("klipper-1.service")
    fake_system.add_unit("klipper-2.service")
    fake_system.configure(moonraker={"instance": "klipper-2"})
    client = Moonraker(moonraker.url)
    client.print_status()  # Klippy connected: Moonraker now knows its unit
    service = klipper.find_service(None, client, client.system_info())
    assert (service.unit, service.moonraker) == ("klipper-2.service", client)


# 3. a stop slower than systemd_cli's 2 s, and a stale cache ------------------------------------

def test_3_a_slow_stop_answered_with_500_is_waited_for_and_klipper_restored(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, flash, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(klipper, "STATUS_INTERVAL", 0.5)
    fake_system.add_unit("klipper.service", port=board.path, stop_delay=3.5)
    run = flash(moonraker_url=moonraker.url)
    run()
    steps = fake_system.steps()
    # it waited for systemd, not for Moonraker's answer: the unit was down before wchisp wrote
    assert steps.index("systemd: klipper.service stopped") < steps.index("wchisp writing"), steps
    assert any(line.startswith("still waiting for klipper.service to stop (") for line in run.said)  # not silent
    assert any(line.startswith("Moonraker could not stop klipper.service (POST /machine/services/stop: HTTP 500 "
                               "Error running shell command: 'sudo systemctl stop klipper')") for line in run.said)
    assert "klipper.service stopped" in run.said
    assert "systemd: klipper.service stopped" in fake_system.steps()
    assert ours(fake_system) == ["moonraker stop klipper", "moonraker start klipper"]  # no second stop needed
    assert fake_system.unit("klipper.service")["state"] == "active"


def test_3_a_stale_service_cache_does_not_hide_a_stopped_klipper(
    fake_system: FakeSystem, board: FakeBoard, flash
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    board.mode = "silent"  # the flash fails; Klipper must come back all the same
    server = FakeMoonraker(poll=600)  # its service_state never refreshes during the test
    try:
        run = flash(moonraker_url=server.url)
        with pytest.raises(FirmwareError, match="not in bootloader mode"):
            run()
        assert server.core.service_state["klipper"]["active_state"] == "active"  # what the cache still says
    finally:
        server.close()
    assert ours(fake_system) == ["moonraker stop klipper", "moonraker start klipper"]
    assert fake_system.unit("klipper.service")["state"] == "active"


# 4. a Moonraker 500 and its hints ----------------------------------------------------------

def test_4_a_moonraker_500_falls_back_to_sudo_n_systemctl(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, flash
) -> None:
    fake_system.configure(root=False, moonraker={"sudo": "password"})  # Moonraker's sudo needs a password
    fake_system.add_unit("klipper.service", port=board.path)
    run = flash(moonraker_url=moonraker.url)
    run()
    assert ours(fake_system) == [
        "moonraker stop klipper", "sudo -n systemctl stop klipper.service [nopasswd]",
        "systemctl stop klipper.service [root]",
        "moonraker start klipper", "sudo -n systemctl start klipper.service [nopasswd]",
        "systemctl start klipper.service [root]",
    ]
    assert "klipper.service is still active; stopping it with sudo -n systemctl" in run.said
    assert fake_system.unit("klipper.service")["state"] == "active"


def test_4_a_400_names_the_real_cause(fake_system: FakeSystem, moonraker: FakeMoonraker) -> None:
    fake_system.add_unit("klipper.service")
    client = Moonraker(moonraker.url)
    client.system_info()  # Moonraker "starts" and detects klipper.service
    fake_system.add_unit("klipper-2.service")  # installed after Moonraker started
    with pytest.raises(FirmwareError, match="Moonraker refused to stop klipper-2.service: "
                                            "Service 'klipper-2' not allowed") as refused:
        klipper.KlipperService("klipper-2.service", client).stop(print)
    assert "did not detect klipper-2.service when it started" in refused.value.hint
    assert "restart Moonraker" in refused.value.hint and "moonraker.asvc" not in refused.value.hint


# 5. wchisp as it really prints -------------------------------------------------------------

def test_5_serialport_4_8_lock_message_from_a_flash(
    fake_system: FakeSystem, board: FakeBoard, flash, holder, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_system.configure(wchisp={"serialport": "4.9.0"})
    holder(board.path, "--flock")  # a Klipper the flow does not know about
    monkeypatch.setattr(flow.holders, "wait_port_free", lambda *_: [])  # as if our own check missed it
    with pytest.raises(FirmwareError, match=r"Unable to acquire exclusive lock on serial port\): "
                                            f"{re.escape(board.path)} is held by another program"):
        flash()()


# 6. where the image comes from ---------------------------------------------------------------

def test_6_no_mainline_klipper_image_is_promised() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Flashing the BMCU-C")[1].split("\n## ")[0]
    assert "GaspardD78/BMCU_C-to-Klipper" in section and "no CH32V target" in section
    ini = (ROOT / "hardware.ini.example").read_text().split("[env:bmcu_c]")[1].split("\n[")[0]
    assert "~/klipper/out/klipper.bin" not in ini


# 7. a flash killed with SIGKILL ---------------------------------------------------------------

def kill_mid_flash(project: Path, *args: str) -> tuple[int, journal.Journal]:
    """Start a flash, SIGKILL it while wchisp writes; return wchisp's pid and the journal left."""
    process = start_flash(project, *args)
    kill_while_writing(process)
    (left,) = journal.pending()
    assert left.pid == process.pid and left.wchisp_pid and left.stopped == ["klipper.service"]
    return left.wchisp_pid, left


@pytest.fixture
def killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project dir whose TMPDIR holds the killed flash's lock and journal, shared with this process."""
    project = tmp_path / "project"
    monkeypatch.setattr(lock, "LOCK_DIR", project / "generator-flash")
    return project


def test_7_after_a_sigkill_the_orphan_is_named_and_restore_puts_klipper_back(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, image: Path, killed: Path, flash,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    fake_system.configure(wchisp={"hang": True})
    orphan, left = kill_mid_flash(killed, "--firmware", str(image), "--device", board.path,
                                  "--moonraker", moonraker.url)
    assert fake_system.unit("klipper.service")["state"] == "inactive" and fakesys.alive(orphan)
    run = flash(moonraker_url=moonraker.url, project_dir=killed)
    with pytest.raises(FirmwareError, match=f"The wchisp of an unfinished flash still runs and holds "
                                            f"{re.escape(board.path)}:\n  pid {orphan}: ") as refused:
        run()
    assert f"kill {orphan}" in refused.value.hint and "--restore" in refused.value.hint
    assert any(line.startswith(f"an unfinished flash was found: the flash of {board.path} started ")
               and f"by pid {left.pid} (it had stopped klipper.service)" in line for line in run.said)
    args = ["--restore", "--moonraker", moonraker.url]
    assert _cli(args) == 1 and f"pid {orphan}" in capsys.readouterr().err  # not while wchisp holds the port
    assert fake_system.unit("klipper.service")["state"] == "inactive"
    fakesys.end_process(orphan)
    assert _cli(args) == 0
    out = capsys.readouterr().out
    assert "flash: starting klipper.service again through Moonraker" in out
    assert "klipper.service is running again" in out and "Klippy is ready" in out
    assert fake_system.unit("klipper.service")["state"] == "active" and journal.pending() == []


def test_7_the_next_flash_restarts_what_a_killed_flash_left_stopped(
    fake_system: FakeSystem, board: FakeBoard, image: Path, killed: Path, flash, no_moonraker: str
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    fake_system.configure(wchisp={"hang": True})
    orphan, _ = kill_mid_flash(killed, "--firmware", str(image), "--device", board.path,
                               "--moonraker", no_moonraker, "--force")  # no Moonraker at all
    fakesys.end_process(orphan)
    fake_system.configure(wchisp={})
    run = flash(project_dir=killed)  # Klipper is stopped: no print can run, no --force needed
    run()
    assert "klipper.service was stopped by that flash; it will be started again after this one" in run.said
    assert f"its wchisp (pid {orphan}) has ended; the board may hold a partial image" in run.said
    assert fake_system.unit("klipper.service")["state"] == "active" and journal.pending() == []


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return cli.run(parser.parse_args(argv))


# 8. a wrong URL or device ------------------------------------------------------------------

@pytest.mark.parametrize("url", ["not a url", "http://[::1"])
def test_8_a_malformed_url_is_a_clear_error_before_anything(
    fake_system: FakeSystem, board: FakeBoard, image: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    assert _cli(["--firmware", str(image), "--device", board.path, "--moonraker", url]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: --moonraker (custom_moonraker_url) {url!r} is not a valid URL")
    assert "Traceback" not in err and ours(fake_system) == []


@pytest.mark.parametrize(("moonraker_state", "said"), [
    ({"trusted": True, "force_logins": True}, r"Moonraker refuses us: .*HTTP 401 Unauthorized"),
    ({"klippy": "startup"}, r"Klippy is not ready: print state: print_stats has no state"),
    ({"klippy": "never"}, r"Klippy is not connected to Moonraker: .*HTTP 503 Klippy Host not connected"),
])
def test_8_klipper_running_with_an_unreadable_print_state_is_refused(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, flash, moonraker_state: dict, said: str
) -> None:
    moonraker.socket_path.unlink()  # HTTP only: no socket where the flash could find it keyless
    fake_system.add_unit("klipper.service", port=board.path)
    Moonraker(moonraker.url).print_status()  # Klippy has connected once
    fake_system.configure(moonraker=moonraker_state)  # then: force_logins, a restart, a disconnect
    with pytest.raises(FirmwareError, match=f"klipper.service is running and its print state cannot be read "
                                            f"\\({said}"):
        flash(moonraker_url=moonraker.url)()
    assert ours(fake_system) == [] and fake_system.unit("klipper.service")["state"] == "active"


def test_8_a_dead_url_refuses_while_klipper_runs(fake_system: FakeSystem, board: FakeBoard, flash,
                                                 no_moonraker: str) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    with pytest.raises(FirmwareError, match=f"{no_moonraker} does not answer") as refused:
        flash(moonraker_url=no_moonraker)()
    assert f"check --moonraker ({no_moonraker})" in refused.value.hint
    assert ours(fake_system) == [] and fake_system.unit("klipper.service")["state"] == "active"


@pytest.mark.parametrize(("kind", "said"), [("file", "a regular file"), ("directory", "a directory"),
                                             ("/dev/null", "not a tty")])
def test_8_a_device_that_is_no_serial_port_is_refused_before_klipper_stops(
    fake_system: FakeSystem, board: FakeBoard, flash, tmp_path: Path, kind: str, said: str
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    device = {"file": tmp_path / "ttyUSB0", "directory": tmp_path}.get(kind, Path(kind))
    if kind == "file":
        device.write_text("")
    with pytest.raises(FirmwareError, match=f"{re.escape(str(device))} is not a serial port: it is .*{said}"):
        flash(device=str(device), force=True)()
    assert ours(fake_system) == [] and fake_system.unit("klipper.service")["state"] == "active"


# the API key is never shown ----------------------------------------------------------------

def test_the_api_key_appears_in_no_output_and_no_log(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, image: Path, tmp_path: Path
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    fake_system.configure(moonraker={"trusted": False, "api_key": KEY})
    project = tmp_path / "project"
    outputs = []
    for key_args, env in (([], {"MOONRAKER_API_KEY": KEY}), (["--moonraker-api-key", KEY], {}),
                          (["--moonraker-api-key", KEY + "0"], {})):  # a wrong key: refused
        process = start_flash(project, "--firmware", str(image), "--device", board.path,
                              "--moonraker", moonraker.url, *key_args, env={**env, "FIRMWARE_VERBOSE": "1"})
        out, err = process.communicate(timeout=60)
        outputs.append(out + err)
    assert "klipper.service is running again" in outputs[0] and "klipper.service is running again" in outputs[1]
    assert "refuses us" in outputs[2]
    written = [path.read_text(errors="replace") for path in project.rglob("*") if path.is_file()]
    assert written and (project / ".pio" / "flash" / "wchisp.log").is_file()
    for text in [*outputs, *written, "\n".join(fake_system.steps())]:
        assert KEY not in text
    assert os.environ.get("MOONRAKER_API_KEY") is None
    assert subprocess.run(["grep", "-r", KEY, str(project)], capture_output=True).returncode == 1
