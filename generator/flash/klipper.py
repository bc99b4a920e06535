"""Klipper's systemd unit around a flash: which one, whether it runs, stopping and starting it."""
from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import FirmwareError
from generator.flash.moonraker import Moonraker, MoonrakerError, MoonrakerUnavailable

# klipper.service, klipper-1.service, klipper-<name>.service; never klipper-mcu (the host MCU).
_UNIT = re.compile(r"^klipper(?:-(?!mcu\b)[\w.@-]+)?\.service$")
RUNNING = {"active", "activating", "reloading"}
_GOING_DOWN = RUNNING | {"deactivating"}
_CHANGING = {"activating", "deactivating", "reloading"}
STATE_TIMEOUT = 15.0  # seconds a unit may take to stop or start
SYSTEMCTL_TIMEOUT = 120.0  # seconds one systemctl call may take (it waits for its job: TimeoutStopSec is 90 s)
STATUS_INTERVAL = 5.0  # seconds between "still waiting" lines
POLL_INTERVAL = 0.2
# klippy.py's options that take a value (klippy/klippy.py main(), Klipper 84104bb)
_KLIPPY_VALUES = {"-i", "--debuginput", "-I", "--input-tty", "-a", "--api-server", "-l", "--logfile",
                  "-o", "--debugoutput", "-d", "--dictionary"}


def running_as_root() -> bool:
    return os.geteuid() == 0


def is_klipper_unit(name: str) -> bool:
    """klipper.service, klipper-1.service, ...: never klipper-mcu, never anything else."""
    return bool(_UNIT.match(name))


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
    own_moonraker: bool = False  # `moonraker` is the unit's own (it reads this Klippy's state)

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
        with saying_it_waits(report, f"{self.unit} to stop"):
            if self.moonraker is None:
                self._systemctl_action("stop", None)
            elif (failure := self._through_moonraker(self.moonraker, "stop", report)) and self.settle() in _GOING_DOWN:
                report(f"{self.unit} is still {self.state()}; stopping it {_systemctl_via()}")
                self._systemctl_action("stop", failure)
            if self._wait(lambda state: state not in _GOING_DOWN) in _GOING_DOWN:
                raise FirmwareError(
                    f"{self.unit} is still running after being stopped {self.via}",
                    f"stop it yourself (sudo systemctl stop {self.unit}) and flash again",
                )

    def start(self, report: Callable[[str], None]) -> None:
        """Start the unit again: through Moonraker, and if that fails in any way, with systemctl
        (unless systemd says it has come up meanwhile)."""
        with saying_it_waits(report, f"{self.unit} to start"):
            if self.moonraker is None:
                self._systemctl_action("start", None)
            elif (failure := self._through_moonraker(self.moonraker, "start", report)) and \
                    self.settle() not in RUNNING:
                report(f"{self.unit} is {self.state()}; starting it {_systemctl_via()}")
                self._systemctl_action("start", failure)
            # "failed" after a start job is final: systemd gave up on the unit
            state = self._wait(lambda state: state in RUNNING or state == "failed")
        if state not in RUNNING:
            raise FirmwareError(f"{self.unit} did not come back up (state: {state})")

    def settle(self) -> str:
        """systemd's state once no job is running on the unit (a stop Moonraker gave up on goes on)."""
        return self._wait(lambda state: state not in _CHANGING)

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

    def _wait(self, done: Callable[[str], bool]) -> str:
        """Poll systemd until `done(state)` or STATE_TIMEOUT; return the last state."""
        deadline = time.monotonic() + STATE_TIMEOUT
        while not done(state := self.state()) and time.monotonic() < deadline:
            time.sleep(POLL_INTERVAL)
        return state


@contextlib.contextmanager
def saying_it_waits(report: Callable[[str], None], what: str) -> Iterator[None]:
    """Say every STATUS_INTERVAL seconds that the block still waits for `what` (a slow stop is
    otherwise silence)."""
    done = threading.Event()
    started = time.monotonic()

    def tick() -> None:
        while not done.wait(STATUS_INTERVAL):
            report(f"still waiting for {what} ({time.monotonic() - started:.0f} s so far)")

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()


KEY_REJECTED_HINT = (
    "the key given (--moonraker-api-key, custom_moonraker_api_key or MOONRAKER_API_KEY) is not Moonraker's "
    "current one, which changes whenever a new one is generated: copy it again (Mainsail or Fluidd settings, "
    "or GET /access/api_key from a trusted client), or use Moonraker's Unix socket (--moonraker-socket), "
    "which needs no key")


def moonraker_hint(err: MoonrakerError, unit: str) -> str:
    """What fixes a refusal of Moonraker's, by its real cause."""
    if err.refused and err.keyed:
        return KEY_REJECTED_HINT
    if err.refused:
        return ("give Moonraker's API key (--moonraker-api-key, custom_moonraker_api_key or MOONRAKER_API_KEY; "
                "see Moonraker's /access/api_key), use its Unix socket (--moonraker-socket; your user needs "
                "write access to it), or add this host to trusted_clients in moonraker.conf's [authorization]")
    if "not allowed" in err.message or "not installed" in err.message:
        return (f"Moonraker did not detect {unit} when it started (it manages only the units it found then): "
                "restart Moonraker (sudo systemctl restart moonraker), or name the right unit with --service")
    return f"stop {unit} yourself (sudo systemctl stop {unit}) and flash again"


@dataclass(frozen=True)
class Klippy:
    """What a Klipper unit runs: its process, its config file and its API socket (klippy.py's `-a`),
    read from the running process's command line, else from the unit's ExecStart with its
    EnvironmentFile (KIAUH puts Klippy's arguments in KLIPPER_ARGS there)."""

    unit: str
    main_pid: int = 0
    config: Path | None = None
    api_socket: Path | None = None

    @property
    def data_dir(self) -> Path | None:
        """KIAUH's <data_path> (printer_data, printer_N_data): the folder above config/ or comms/."""
        for path, folder in ((self.config, "config"), (self.api_socket, "comms")):
            if path is not None and path.parent.name == folder:
                return path.parent.parent
        return None


def klippy_of(unit: str) -> Klippy:
    """What `unit` runs (nothing known when systemd cannot say)."""
    done = _systemctl("show", unit, "--property=MainPID,EnvironmentFiles,ExecStart", privileged=False)
    values: dict[str, list[str]] = {}
    for line in done.stdout.splitlines() if done.returncode == 0 else []:
        key, _, value = line.partition("=")
        values.setdefault(key, []).append(value)
    pid = int((values.get("MainPID") or ["0"])[0] or 0)
    argv = _process_argv(pid) if pid else None
    if argv is None or not _klippy_args(argv):
        environment = _environment_files([line.rsplit(" (", 1)[0] for line in values.get("EnvironmentFiles", [])])
        argv = _exec_start_argv((values.get("ExecStart") or [""])[0], environment)
    config, api_socket = _klippy_options(_klippy_args(argv) or [])
    return Klippy(unit, pid, config, api_socket)


def _process_argv(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part] or None


def _environment_files(paths: list[str]) -> dict[str, str]:
    """systemd's EnvironmentFile= format: KEY=VALUE lines, # comments, values maybe quoted."""
    environment: dict[str, str] = {}
    for path in paths:
        try:
            lines = Path(path.lstrip("-")).read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            key, sep, value = line.strip().partition("=")
            if sep and not key.startswith(("#", ";")):
                words = shlex.split(value, comments=False) if value.strip() else [""]
                environment[key.strip()] = " ".join(words)
    return environment


def _exec_start_argv(exec_start: str, environment: dict[str, str]) -> list[str]:
    """The argv of `systemctl show -p ExecStart`'s `argv[]=...`, with $VAR split into words and
    ${VAR} kept as one, as systemd expands them."""
    found = re.search(r"argv\[\]=(.*?) ; ignore_errors=", exec_start)
    argv: list[str] = []
    for word in (found.group(1).split() if found else []):
        whole = re.fullmatch(r"\$(\w+)", word)
        if whole:
            argv += environment.get(whole.group(1), "").split()
        else:
            argv.append(re.sub(r"\$\{(\w+)\}", lambda m: environment.get(m.group(1), ""), word))
    return argv


def _klippy_args(argv: list[str]) -> list[str] | None:
    """The arguments after klippy.py (or `-m klippy`), if this is a Klippy command line."""
    for index, word in enumerate(argv):
        if word.endswith("klippy.py") or (word == "klippy" and argv[index - 1:index] == ["-m"]):
            return argv[index + 1:]
    return None


def _klippy_options(args: list[str]) -> tuple[Path | None, Path | None]:
    """klippy.py's config file (its one positional argument) and `-a` socket."""
    config = api_socket = None
    words = iter(args)
    for word in words:
        name, inline = (word.split("=", 1) + [""])[:2] if word.startswith("--") else (word[:2], word[2:])
        if word.startswith("-") and name in _KLIPPY_VALUES:
            value = inline or next(words, "")
            if name in ("-a", "--api-server"):
                api_socket = Path(value)
        elif not word.startswith("-") and config is None:
            config = Path(word)
    return config, api_socket


def _systemctl_via() -> str:
    return "with systemctl" if running_as_root() else "with sudo -n systemctl"


def find_service(
    requested: str | None, moonraker: Moonraker | None, info: dict[str, Any] | None, on_port: list[str] | None = None,
) -> KlipperService | None:
    """The Klipper unit to stop: the one named, else the one whose config names the port
    (`on_port`), else Moonraker's, else the only one systemd runs."""
    managed = set(info.get("available_services") or []) if info else set()

    def service(unit: str) -> KlipperService:
        return KlipperService(unit, moonraker if unit.removesuffix(".service") in managed else None)

    if requested:
        unit = unit_name(requested)
        if re.match(r"^klipper[-_]mcu\b", unit):
            raise FirmwareError(f"{unit} is the host MCU service, not Klipper", "name Klipper's unit: klipper.service")
        return service(unit)
    if on_port and len(on_port) > 1:
        raise FirmwareError("Several Klipper units name this port in their config: " + ", ".join(on_port),
                            "name the one to stop with --service UNIT (or custom_klipper_service)")
    if on_port:
        return service(on_port[0])
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
        if len(fields) >= 3 and is_klipper_unit(fields[0]):
            units[fields[0]] = fields[2]
    return units


def _systemctl(*args: str, privileged: bool) -> subprocess.CompletedProcess[str]:
    """Run systemctl, through `sudo -n` when it changes state and we are not root."""
    command = ["systemctl", *args]
    if privileged and not running_as_root():
        command = ["sudo", "-n", *command]
    try:
        return subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=SYSTEMCTL_TIMEOUT
        )
    except FileNotFoundError:
        return subprocess.CompletedProcess(command, 127, "", f"{command[0]}: command not found")
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(command, 124, "", f"{' '.join(command)} timed out")
