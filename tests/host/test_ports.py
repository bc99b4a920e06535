"""Port choice: pyserial's USB ports plus /dev/serial links, one entry per real device, no guessing."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from serial.tools.list_ports_common import ListPortInfo

from generator.boards import board_facts
from generator.errors import FirmwareError
from generator.host import ports

BMCU_C = board_facts("bmcu_c")
OPTION = "--device PORT"


class Devices:
    """Real ptys standing in for /dev/ttyUSB*, with by-id/by-path link folders and pyserial's view."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.by_id, self.by_path = root / "by-id", root / "by-path"
        self.by_id.mkdir()
        self.by_path.mkdir()
        self.listed: list[ListPortInfo] = []
        self.fds: list[int] = []
        monkeypatch.setattr(ports, "LINK_DIRS", (self.by_id, self.by_path))
        monkeypatch.setattr(ports, "comports", lambda: list(self.listed))

    def add(self, vid: int | None, pid: int | None, description: str, by_id: str = "", by_path: str = "") -> str:
        master, slave = os.openpty()
        self.fds += [master, slave]
        device = os.ttyname(slave)
        info = ListPortInfo(device, skip_link_detection=True)
        info.vid, info.pid, info.description = vid, pid, description
        self.listed.append(info)
        for folder, name in ((self.by_id, by_id), (self.by_path, by_path)):
            if name:
                (folder / name).symlink_to(device)
        return device

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)


@pytest.fixture
def devices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Devices]:
    found = Devices(tmp_path, monkeypatch)
    yield found
    found.close()


def test_the_only_wch_bridge_is_chosen_by_its_stable_name(devices: Devices) -> None:
    ch340 = devices.add(0x1A86, 0x7523, "USB Serial", by_id="usb-1a86_USB_Serial-if00-port0",
                        by_path="platform-xhci-usb-0:1.2:1.0-port0")
    devices.add(0x1D50, 0x614E, "stm32f446xx", by_id="usb-Klipper_stm32f446xx_123-if00")
    devices.add(None, None, "n/a")  # a built-in UART: never picked on its own
    port, why = ports.choose_port(None, BMCU_C, OPTION)
    assert port.device == ch340
    assert port.name == str(devices.by_id / "usb-1a86_USB_Serial-if00-port0")
    assert "the only CH340 USB-serial bridge" in why and "1 other port(s) ignored" in why
    assert "[1a86:7523 CH340]" in port.summary()


def test_links_and_pyserial_entries_are_one_device(devices: Devices) -> None:
    devices.add(0x1A86, 0x55D4, "USB Single Serial", by_id="usb-1a86_USB_Single_Serial_5434-if00",
                by_path="pci-0000:00:14.0-usb-0:2:1.0")
    candidates = ports.list_candidates(BMCU_C)
    assert len(candidates) == 1
    assert candidates[0].by_path and candidates[0].by_id


def test_several_plausible_ports_are_refused_with_each_listed(devices: Devices) -> None:
    first = devices.add(0x1A86, 0x7523, "USB Serial", by_id="usb-1a86_USB_Serial-if00-port0",
                        by_path="platform-usb-0:1.2:1.0-port0")
    devices.add(0x1A86, 0x7523, "USB Serial", by_path="platform-usb-0:1.3:1.0-port0")
    with pytest.raises(FirmwareError) as refused:
        ports.choose_port(None, BMCU_C, OPTION)
    message = refused.value.message
    # two CH340s share one by-id name (no serial number), so by-path names them
    assert str(devices.by_path / "platform-usb-0:1.2:1.0-port0") in message
    assert str(devices.by_path / "platform-usb-0:1.3:1.0-port0") in message
    assert f"-> {first}" in message and message.count("[1a86:7523 CH340] USB Serial") == 2
    assert "--device" in refused.value.hint


def test_several_non_wch_ports_are_refused_too(devices: Devices) -> None:
    devices.add(0x0403, 0x6001, "FT232R", by_id="usb-FTDI_FT232R_A1-if00-port0")
    devices.add(0x10C4, 0xEA60, "CP2102", by_id="usb-Silicon_Labs_CP2102_B2-if00-port0")
    with pytest.raises(FirmwareError, match="refusing to guess"):
        ports.choose_port(None, BMCU_C, OPTION)


def test_one_non_wch_port_alone_is_used(devices: Devices) -> None:
    ftdi = devices.add(0x0403, 0x6001, "FT232R")
    port, why = ports.choose_port(None, BMCU_C, OPTION)
    assert (port.device, port.name, why) == (ftdi, ftdi, "the only USB serial port")


def test_no_port_at_all(devices: Devices) -> None:
    with pytest.raises(FirmwareError, match="No USB serial port found"):
        ports.choose_port(None, BMCU_C, OPTION)


def test_a_given_port_must_exist_and_gets_its_stable_name(devices: Devices) -> None:
    ch340 = devices.add(0x1A86, 0x7523, "USB Serial", by_id="usb-1a86_USB_Serial-if00-port0")
    port, why = ports.choose_port(ch340, BMCU_C, OPTION)
    assert (port.name, why) == (str(devices.by_id / "usb-1a86_USB_Serial-if00-port0"), "given")
    with pytest.raises(FirmwareError) as missing:
        ports.choose_port("/dev/ttyUSB9", BMCU_C, OPTION)
    assert "does not exist" in missing.value.message
    assert "usb-1a86_USB_Serial-if00-port0" in missing.value.hint


def test_only_serial_ttys_count_as_serial_ports(tmp_path: Path) -> None:
    master, slave = os.openpty()
    try:
        assert ports.not_a_serial_port(os.ttyname(slave)) is None  # a pty slave: socat bridges are ptys
        (tmp_path / "ttyUSB0").write_text("")
        assert ports.not_a_serial_port(str(tmp_path / "ttyUSB0")) == "a regular file"
        assert ports.not_a_serial_port(str(tmp_path)) == "a directory"
        assert ports.not_a_serial_port("/dev/null") == "a character device (1:3) that is not a tty"
        assert ports.not_a_serial_port("/dev/tty") == "the system:/dev/tty device /dev/tty"
    finally:
        os.close(master)
        os.close(slave)
