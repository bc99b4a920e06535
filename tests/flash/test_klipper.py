"""Klipper's unit: found, stopped and started through Moonraker or systemctl, and port holders."""
from __future__ import annotations

import time

import pytest

from generator.errors import FirmwareError
from generator.flash import klipper
from generator.flash.moonraker import Moonraker
from generator.host import holders
from testsupport.fakes.board import FakeBoard
from testsupport.fakes.fixtures import *  # noqa: F403 - the fixtures
from testsupport.fakes.fixtures import FakeSystem
from testsupport.fakes.moonraker import FakeMoonraker


def test_systemd_units_exclude_klipper_mcu_and_others(fake_system: FakeSystem) -> None:
    fake_system.add_unit("klipper.service")
    fake_system.add_unit("klipper-2.service", state="inactive")
    fake_system.add_unit("klipper-voron.service", state="failed")
    assert klipper.systemd_klipper_units() == {
        "klipper.service": "active", "klipper-2.service": "inactive", "klipper-voron.service": "failed",
    }


def test_the_only_running_unit_is_found_without_moonraker(fake_system: FakeSystem) -> None:
    fake_system.add_unit("klipper-1.service")
    fake_system.add_unit("klipper-2.service", state="inactive")
    service = klipper.find_service(None, None, None)
    assert (service.unit, service.moonraker) == ("klipper-1.service", None)


def test_several_running_units_are_refused(fake_system: FakeSystem) -> None:
    fake_system.add_unit("klipper-1.service")
    fake_system.add_unit("klipper-2.service")
    with pytest.raises(FirmwareError, match="klipper-1.service, klipper-2.service") as refused:
        klipper.find_service(None, None, None)
    assert "--service" in refused.value.hint


def test_moonraker_names_its_own_unit(fake_system: FakeSystem, moonraker: FakeMoonraker) -> None:
    fake_system.add_unit("klipper-1.service")
    fake_system.add_unit("klipper-2.service")
    fake_system.configure(moonraker={"instance": "klipper-2", "available": ["klipper-2"]})
    client = Moonraker(moonraker.url)
    client.print_status()  # Klippy has connected: Moonraker knows its unit
    service = klipper.find_service(None, client, client.system_info())
    assert (service.unit, service.moonraker) == ("klipper-2.service", client)
    named = klipper.find_service("klipper-1", client, client.system_info())
    assert (named.unit, named.moonraker) == ("klipper-1.service", None)  # not Moonraker's: systemctl


def test_klipper_mcu_is_never_a_target(fake_system: FakeSystem) -> None:
    with pytest.raises(FirmwareError, match="host MCU"):
        klipper.find_service("klipper-mcu", None, None)


@pytest.mark.parametrize("root", [True, False])
def test_stop_and_start_with_systemctl(fake_system: FakeSystem, board: FakeBoard, root: bool) -> None:
    fake_system.configure(root=root)
    fake_system.add_unit("klipper.service", port=board.path)
    service = klipper.KlipperService("klipper.service")
    assert service.via == ("with systemctl" if root else "with sudo -n systemctl")
    assert holders.port_holders(board.path)
    service.stop(print)
    assert not service.running() and holders.port_holders(board.path) == []
    service.start(print)
    assert service.running()
    changes = [s for s in fake_system.steps() if " stop " in s or " start " in s]
    if root:
        assert changes == ["systemctl stop klipper.service [root]", "systemctl start klipper.service [root]"]
    else:
        assert changes == [
            "sudo -n systemctl stop klipper.service [nopasswd]", "systemctl stop klipper.service [root]",
            "sudo -n systemctl start klipper.service [nopasswd]", "systemctl start klipper.service [root]",
        ]


def test_a_stop_sudo_refuses_is_an_error(fake_system: FakeSystem) -> None:
    fake_system.configure(root=False, sudo="password")
    fake_system.add_unit("klipper.service")
    with pytest.raises(FirmwareError) as failed:
        klipper.KlipperService("klipper.service").stop(print)
    assert failed.value.message == (
        "Could not stop klipper.service with sudo -n systemctl: sudo: a password is required"
    )
    assert "Moonraker" in failed.value.hint
    assert fake_system.unit("klipper.service")["state"] == "active"


def test_the_state_comes_from_systemd_not_moonrakers_cache(
    fake_system: FakeSystem, moonraker: FakeMoonraker
) -> None:
    fake_system.add_unit("klipper.service")
    client = Moonraker(moonraker.url)
    client.system_info()
    time.sleep(0.1)
    fake_system.update_unit("klipper.service", state="inactive")  # stopped behind Moonraker's back
    cached = client.system_info()["service_state"]["klipper"]["active_state"]
    assert cached == "active"  # refreshed every 2 s only
    assert klipper.KlipperService("klipper.service", client).state() == "inactive"


def test_start_falls_back_to_systemctl_when_moonraker_is_gone(
    fake_system: FakeSystem, moonraker: FakeMoonraker, no_moonraker: str
) -> None:
    fake_system.add_unit("klipper.service", state="inactive")
    service = klipper.KlipperService("klipper.service", Moonraker(no_moonraker))
    said: list[str] = []
    service.start(said.append)
    assert said[0].startswith(f"Moonraker could not start klipper.service ({no_moonraker} does not answer")
    assert service.running() and "systemctl start klipper.service [root]" in fake_system.steps()


def test_port_holders_name_the_process(fake_system: FakeSystem, board: FakeBoard, holder) -> None:
    assert holders.port_holders(board.path) == []  # the board's side of the pty does not count
    monitor = holder(board.path)
    (held,) = holders.port_holders(board.path)
    assert held.startswith(f"pid {monitor.pid}") and "holder.py" in held
