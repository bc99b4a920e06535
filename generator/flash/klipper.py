"""Klipper's systemd unit around a flash: which one, whether it runs, stopping and starting it."""
from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from generator.errors import FirmwareError
from generator.flash.moonraker import Moonraker, MoonrakerError, MoonrakerUnavailable

# klipper.service, klipper-1.service, klipper-<name>.service; never klipper-mcu (the host MCU).
_UNIT = re.compile(r"^klipper(?:-(?!mcu\b)[\w.@-]+)?\.service$")
RUNNING = {"active", "activating", "reloading"}
_GOING_DOWN = RUNNING | {"deactivating"}
STATE_TIMEOUT = 15.0  # seconds a unit may take to stop or start
POLL_INTERVAL = 0.2


def running_as_root() -> bool:
    return os.geteuid() == 0


def unit_name(name: str) -> str:
    """`klipper-1` -> `klipper-1.service`, as systemctl reads it."""
    return name if name.endswith(".service") else f"{name}.service"


@dataclass
class KlipperService:
    """A Klipper unit, driven through Moonraker when `moonraker` is set, else through systemctl."""

    unit: str
    moonraker: Moonraker | None = None

    @property
    def service(self) -> str:
        """The name Moonraker knows the unit by."""
        return self.unit.removesuffix(".service")

    @property
    def via(self) -> str:
        if self.moonraker:
            return f"through Moonraker ({self.moonraker.url})"
        return "with systemctl" if running_as_root() else "with sudo -n systemctl"

    def state(self) -> str:
        """systemd's ACTIVE state: active, inactive, failed, activating, ..."""
        if self.moonraker:
            try:
                states = self.moonraker.system_info().get("service_state") or {}
                if self.service in states:
                    return str(states[self.service].get("active_state", "unknown"))
            except (MoonrakerError, MoonrakerUnavailable):
                pass
        return _systemctl("is-active", self.unit, privileged=False).stdout.strip() or "unknown"

    def running(self) -> bool:
        return self.state() in RUNNING

    def stop(self) -> None:
        """Stop the unit and wait until it is down; FirmwareError if that fails."""
        if self.moonraker:
            try:
                self.moonraker.stop_service(self.service)
            except (MoonrakerError, MoonrakerUnavailable) as err:
                raise FirmwareError(
                    f"Moonraker could not stop {self.unit}: {err}",
                    "check that moonraker.asvc lists it, or stop Klipper yourself and flash again",
                ) from None
        else:
            self._systemctl_action("stop")
        if not self._wait(lambda state: state not in _GOING_DOWN):
            raise FirmwareError(
                f"{self.unit} is still running after being stopped {self.via}",
                f"stop it yourself (sudo systemctl stop {self.unit}) and flash again",
            )

    def start(self) -> None:
        """Start the unit again; through systemctl if Moonraker has stopped answering."""
        if self.moonraker:
            try:
                self.moonraker.start_service(self.service)
            except MoonrakerUnavailable:
                self.moonraker = None
            except MoonrakerError as err:
                raise FirmwareError(f"Moonraker could not start {self.unit}: {err}") from None
        if not self.moonraker:
            self._systemctl_action("start")
        if not self._wait(lambda state: state in RUNNING):
            raise FirmwareError(f"{self.unit} did not come back up (state: {self.state()})")

    def _systemctl_action(self, action: str) -> None:
        done = _systemctl(action, self.unit, privileged=True)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            raise FirmwareError(
                f"Could not {action} {self.unit} {self.via}: {detail[0] if detail else f'exit {done.returncode}'}",
                "run Moonraker (it stops and starts Klipper without sudo), allow passwordless "
                f"`sudo systemctl {action} {self.unit}`, or {action} it yourself",
            )

    def _wait(self, done: Callable[[str], bool]) -> bool:
        deadline = time.monotonic() + STATE_TIMEOUT
        while not done(self.state()):
            if time.monotonic() > deadline:
                return False
            time.sleep(POLL_INTERVAL)
        return True


def find_service(
    requested: str | None, moonraker: Moonraker | None, info: dict[str, Any] | None
) -> KlipperService | None:
    """The Klipper unit to stop: the one named, else Moonraker's, else the only one systemd runs."""
    managed = set(info.get("available_services") or []) if info else set()

    def service(unit: str) -> KlipperService:
        return KlipperService(unit, moonraker if unit.removesuffix(".service") in managed else None)

    if requested:
        unit = unit_name(requested)
        if re.match(r"^klipper[-_]mcu\b", unit):
            raise FirmwareError(f"{unit} is the host MCU service, not Klipper", "name Klipper's unit: klipper.service")
        return service(unit)
    instance = ((info or {}).get("instance_ids") or {}).get("klipper")
    if instance:
        return service(unit_name(instance))
    units = systemd_klipper_units()
    running = [unit for unit, state in units.items() if state in RUNNING]
    if len(running) > 1:
        raise FirmwareError(
            "Several Klipper units are running: " + ", ".join(running),
            "name the one that uses this board with --service UNIT (or custom_klipper_service), "
            "or point --moonraker at that printer's Moonraker",
        )
    return service(running[0]) if running else None


def systemd_klipper_units() -> dict[str, str]:
    """Klipper units loaded in systemd and their ACTIVE state; empty without systemd."""
    listing = _systemctl(
        "list-units", "--type=service", "--all", "--plain", "--no-legend", "--no-pager", "klipper*",
        privileged=False,
    )
    units = {}
    for line in listing.stdout.splitlines() if listing.returncode == 0 else []:
        fields = line.split()
        if len(fields) >= 3 and _UNIT.match(fields[0]):
            units[fields[0]] = fields[2]
    return units


def _systemctl(*args: str, privileged: bool) -> subprocess.CompletedProcess[str]:
    """Run systemctl, through `sudo -n` when it changes state and we are not root."""
    command = ["systemctl", *args]
    if privileged and not running_as_root():
        command = ["sudo", "-n", *command]
    try:
        return subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=STATE_TIMEOUT
        )
    except FileNotFoundError:
        return subprocess.CompletedProcess(command, 127, "", f"{command[0]}: command not found")
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(command, 124, "", f"{' '.join(command)} timed out")
