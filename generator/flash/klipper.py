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
_CHANGING = {"activating", "deactivating", "reloading"}
STATE_TIMEOUT = 15.0  # seconds a unit may take to stop or start
POLL_INTERVAL = 0.2


def running_as_root() -> bool:
    return os.geteuid() == 0


def unit_name(name: str) -> str:
    """`klipper-1` -> `klipper-1.service`, as systemctl reads it."""
    return name if name.endswith(".service") else f"{name}.service"


@dataclass
class KlipperService:
    """A Klipper unit, driven through Moonraker when `moonraker` is set, else through systemctl.
    Whether it runs is always asked of systemd: Moonraker's service_state is a cache refreshed
    every 2 s, and its stop may answer 500 while systemd goes on stopping the unit."""

    unit: str
    moonraker: Moonraker | None = None

    @property
    def service(self) -> str:
        """The name Moonraker knows the unit by."""
        return self.unit.removesuffix(".service")

    @property
    def via(self) -> str:
        if self.moonraker:
            return f"through Moonraker ({self.moonraker.where})"
        return _systemctl_via()

    def state(self) -> str:
        """systemd's ACTIVE state: active, inactive, failed, activating, deactivating, ..."""
        done = _systemctl("is-active", self.unit, privileged=False)
        if done.returncode != 127 or not self.moonraker:
            return done.stdout.strip() or "unknown"
        try:  # no systemctl here at all: Moonraker's cache is all there is
            states = self.moonraker.system_info().get("service_state") or {}
            return str(states.get(self.service, {}).get("active_state", "unknown"))
        except (MoonrakerError, MoonrakerUnavailable):
            return "unknown"

    def running(self) -> bool:
        return self.state() in RUNNING

    def stop(self, report: Callable[[str], None]) -> None:
        """Stop the unit and wait until it is down; FirmwareError if that fails."""
        if self.moonraker is None:
            self._systemctl_action("stop", None)
        elif (failure := self._through_moonraker(self.moonraker, "stop", report)) and self.settle() in _GOING_DOWN:
            report(f"{self.unit} is still {self.state()}; stopping it {_systemctl_via()}")
            self._systemctl_action("stop", failure)
        if not self._wait(lambda state: state not in _GOING_DOWN):
            raise FirmwareError(
                f"{self.unit} is still running after being stopped {self.via}",
                f"stop it yourself (sudo systemctl stop {self.unit}) and flash again",
            )

    def start(self, report: Callable[[str], None]) -> None:
        """Start the unit again: through Moonraker, and if that fails in any way, with systemctl
        (unless systemd says it has come up meanwhile)."""
        if self.moonraker is None:
            self._systemctl_action("start", None)
        elif (failure := self._through_moonraker(self.moonraker, "start", report)) and self.settle() not in RUNNING:
            report(f"{self.unit} is {self.state()}; starting it {_systemctl_via()}")
            self._systemctl_action("start", failure)
        if not self._wait(lambda state: state in RUNNING):
            raise FirmwareError(f"{self.unit} did not come back up (state: {self.state()})")

    def settle(self) -> str:
        """systemd's state once no job is running on the unit (a stop Moonraker gave up on goes on)."""
        self._wait(lambda state: state not in _CHANGING)
        return self.state()

    def _through_moonraker(self, moonraker: Moonraker, action: str, report: Callable[[str], None]) -> str | None:
        """Ask Moonraker; None when it did it, else why not. A refusal that systemctl would not fix
        (401/403, 400) is a FirmwareError when stopping; a start always falls back."""
        try:
            if action == "stop":
                moonraker.stop_service(self.service)
            else:
                moonraker.start_service(self.service)
            return None
        except MoonrakerUnavailable as err:
            failure = str(err)
        except MoonrakerError as err:
            failure = str(err)
            if action == "stop" and (err.refused or err.status == 400):
                raise FirmwareError(f"Moonraker refused to stop {self.unit}: {err.message}",
                                    moonraker_hint(err, self.unit)) from None
        report(f"Moonraker could not {action} {self.unit} ({failure}); asking systemd")
        return failure

    def _systemctl_action(self, action: str, moonraker_failure: str | None) -> None:
        done = _systemctl(action, self.unit, privileged=True)
        if done.returncode == 0:
            return
        detail = (done.stderr or done.stdout).strip().splitlines()
        said = detail[0] if detail else f"exit {done.returncode}"
        if moonraker_failure:
            raise FirmwareError(
                f"Could not {action} {self.unit}: Moonraker failed ({moonraker_failure}) and "
                f"{_systemctl_via()} failed too ({said})",
                "Moonraker's systemd_cli provider runs `sudo systemctl` (2 s limit), which fails when its "
                "sudo needs a password: set sudo_password in moonraker.conf's [machine] section, or allow "
                f"passwordless `sudo systemctl {action} {self.unit}` (which also lets this fallback work); "
                f"or run the flash as root, or {action} it yourself",
            )
        raise FirmwareError(
            f"Could not {action} {self.unit} {_systemctl_via()}: {said}",
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


def moonraker_hint(err: MoonrakerError, unit: str) -> str:
    """What fixes a refusal of Moonraker's, by its real cause."""
    if err.refused:
        return ("give Moonraker's API key (--moonraker-api-key, custom_moonraker_api_key or MOONRAKER_API_KEY; "
                "see Moonraker's /access/api_key), use its Unix socket (--moonraker-socket; your user needs "
                "write access to it), or add this host to trusted_clients in moonraker.conf's [authorization]")
    if "not allowed" in err.message or "not installed" in err.message:
        return (f"Moonraker did not detect {unit} when it started (it manages only the units it found then): "
                "restart Moonraker (sudo systemctl restart moonraker), or name the right unit with --service")
    return f"stop {unit} yourself (sudo systemctl stop {unit}) and flash again"


def _systemctl_via() -> str:
    return "with systemctl" if running_as_root() else "with sudo -n systemctl"


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
    # Moonraker says "klipper" until Klippy has connected once, even on a klipper-1 host: its
    # instance id counts only when it is one of the units Moonraker found.
    instance = ((info or {}).get("instance_ids") or {}).get("klipper")
    if instance and instance in managed:
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
