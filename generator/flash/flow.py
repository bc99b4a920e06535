"""The whole flash: preflight, Klipper out of the way, wchisp, and Klipper put back, always."""
from __future__ import annotations

import contextlib
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from generator.boards import BoardFacts, board_facts
from generator.errors import FirmwareError
from generator.flash import API_KEY_ENV, DEFAULT_URL, image, instances, journal, klipper, lock
from generator.flash.klipper import KlipperService
from generator.flash.moonraker import (
    Moonraker,
    MoonrakerError,
    MoonrakerUnavailable,
    check_url,
    connect,
)
from generator.flash.wchisp import bootloader
from generator.flash.wchisp import tool as wchisp
from generator.host import holders, ports
from generator.paths import flash_log

PORT_RELEASE_TIMEOUT = 3.0  # seconds for the port to be let go once Klipper is down
READY_TIMEOUT = 60.0  # seconds Klippy may take to be ready after the restart (MCUs connect, config loads)
READY_POLL = 0.5
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass
class FlashRequest:
    """Everything one flash needs; `project_dir` holds bin/ (wchisp) and .pio/ (the log)."""

    firmware: Path
    project_dir: Path
    board: str = "bmcu_c"  # a board definition id or a PlatformIO board id it covers
    device: str | None = None
    baud: str | int | None = None
    service: str | None = None
    moonraker_url: str = DEFAULT_URL
    moonraker_socket: Path | None = None  # None: ~/printer_data/comms/moonraker.sock when it is there
    moonraker_api_key: str | None = field(default=None, repr=False)  # None: $MOONRAKER_API_KEY
    wchisp_path: str | None = None
    dtr_rts: bool = False
    dry_run: bool = False
    force: bool = False


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived while Klipper was stopped."""


def say(message: str) -> None:
    print(f"flash: {message}", flush=True)


def flash(request: FlashRequest, report: Callable[[str], None] = say, out: TextIO = sys.stdout) -> None:
    """Flash `request.firmware`; raise FirmwareError, after putting Klipper back, if anything fails."""
    board = board_facts(request.board)
    size = image.check_image(request.firmware, board)
    report(f"image {request.firmware}: {size} bytes, raw binary, fits the {board.name}'s "
           f"{board.flash_bytes // 1024} KiB")
    executable, where = wchisp.locate(request.project_dir, request.wchisp_path)
    report(f"wchisp {executable} (from {where}): {wchisp.version(executable)}")
    baud = wchisp.baud_value(request.baud)
    moonraker = _moonraker(request)
    port, why = ports.choose_port(request.device, board, "--device PORT (or upload_port in platformio.ini)")
    argv = wchisp.command(executable, port.name, baud, request.firmware)
    report(f"port {port.summary()} ({why})")
    left = _unfinished_flash(port, report)
    info, _ = _system_info(moonraker, report)
    on_port = [] if request.service else _units_on_port(port, report)
    service = klipper.find_service(request.service, moonraker if info else None, info, on_port)
    if service is None:
        report("no Klipper unit found; nothing to stop")
    running = service if service and service.running() else None
    if service:
        report(f"{service.unit} is {'running' if running else 'not running; it will be left stopped'}")
    if running:
        klippy = klipper.klippy_of(running.unit)
        _refuse_while_printing(running, klippy, moonraker, request, report)
        _refuse_while_others_hold(port, running, klippy)
    restart = [running] if running else []
    for unit in left.stopped if left else []:
        if not running or unit != running.unit:
            report(f"{unit} was stopped by that flash; it will be started again after this one")
            carried = klipper.find_service(unit, moonraker if info else None, info)
            restart += [_with_own_moonraker(carried, moonraker, report)] if carried else []

    if request.dry_run:
        report(f"dry run: would take the lock {lock.lock_path(port.identity)}")
        if running:
            report(f"dry run: would stop {running.unit} {running.via}")
        report(f"dry run: would check that no other process holds {port.device}")
        if request.dtr_rts:
            report(f"dry run: would pulse DTR/RTS on {port.name} to enter the bootloader")
        report(f"dry run: would run: {shlex.join(argv)}")
        for service in restart:
            report(f"dry run: would start {service.unit} again {service.via}")
        report("dry run: nothing was changed")
        return
    with lock.port_lock(port.identity, port.name):
        _flash_with_klipper_stopped(running, restart, port, argv, request, report, out)


def restore(request: FlashRequest, report: Callable[[str], None] = say) -> None:
    """`flash --restore`: put back what unfinished flashes stopped (of `request.device`, or all),
    naming any wchisp of theirs that still holds the port."""
    moonraker = _moonraker(request)
    board = board_facts(request.board)
    found = [entry for entry in journal.pending() if _concerns(entry, request.device, board)]
    left = []
    for entry in found:
        if entry and entry.owner_alive():
            report(f"{entry.describe()} is still running; left alone")
        elif entry:
            left.append(entry)
    if not left:
        report("no unfinished flash: nothing to restore")
        return
    info, _ = _system_info(moonraker, report)
    for entry in left:
        with lock.port_lock(entry.key, entry.port):
            _check_orphan(entry, report)
            for unit in entry.stopped:
                service = klipper.find_service(unit, moonraker if info else None, info)
                failure = _restart(_with_own_moonraker(service, moonraker, report), report) if service else None
                if failure:
                    raise failure
            journal.clear(entry)
        report(f"restored after {entry.describe()}")


def _concerns(entry: journal.Journal, device: str | None, board: BoardFacts) -> bool:
    """Whether `--restore --device DEVICE` means this journal: any name of its board then or now."""
    if device is None:
        return True
    names = {device, os.path.realpath(device)}
    if os.path.exists(device):
        names.add(ports.choose_port(device, board, "--device")[0].identity)
    return bool(names & {entry.key, entry.port, entry.device})


def _moonraker(request: FlashRequest) -> Moonraker:
    """The Moonraker to ask, from the request; a malformed URL is an error before anything runs."""
    url = check_url(request.moonraker_url, "--moonraker (custom_moonraker_url)")
    key = request.moonraker_api_key or os.environ.get(API_KEY_ENV) or None
    socket_path = Path(request.moonraker_socket).expanduser() if request.moonraker_socket else None
    return connect(url, socket_path, key)


def _system_info(moonraker: Moonraker, report: Callable[[str], None]
                 ) -> tuple[dict[str, Any] | None, Exception | None]:
    """Moonraker's system_info, or None and why it could not be had."""
    try:
        info = moonraker.system_info()
    except MoonrakerError as err:
        said = "refuses us" if err.refused else "answered with an error"
        report(f"Moonraker at {moonraker.where} {said} ({err})")
        return None, err
    except MoonrakerUnavailable as err:
        report(f"no Moonraker: {err}")
        return None, err
    report(f"Moonraker answers at {moonraker.where}")
    return info, None


def _unfinished_flash(port: ports.SerialPort, report: Callable[[str], None]) -> journal.Journal | None:
    """A flash of this port that was killed before it put Klipper back, if any; refuse while its
    wchisp still runs."""
    left = journal.read(port.identity)
    if left is None or left.owner_alive():
        return None  # none, or a flash running now: the port lock refuses it
    report(f"an unfinished flash was found: {left.describe()}")
    _check_orphan(left, report)
    return left


def _check_orphan(left: journal.Journal, report: Callable[[str], None]) -> None:
    orphan = left.orphan()
    if orphan:
        raise FirmwareError(
            f"The wchisp of an unfinished flash still runs and holds {left.port}:\n  {orphan}",
            f"end it (kill {left.wchisp_pid}), then run `python -m generator flash --restore` to put "
            f"Klipper back, or flash again",
        )
    if left.wchisp_pid:
        report(f"its wchisp (pid {left.wchisp_pid}) has ended; the board may hold a partial image")


def _units_on_port(port: ports.SerialPort, report: Callable[[str], None]) -> list[str]:
    """The Klipper units whose config names this port in an [mcu] section, said as found."""
    found = instances.units_on_port(port, [klipper.klippy_of(unit) for unit in klipper.systemd_klipper_units()])
    for klippy in found:
        report(f"{klippy.unit} uses this port (its config {klippy.config} names it in an [mcu] section)")
    return [klippy.unit for klippy in found]


def _explicit(request: FlashRequest) -> bool:
    """Whether the user named a Moonraker (rather than leaving the default)."""
    return request.moonraker_socket is not None or request.moonraker_url.rstrip("/") != DEFAULT_URL


def _with_own_moonraker(service: KlipperService, given: Moonraker, report: Callable[[str], None]) -> KlipperService:
    """`service` driven through its own Moonraker when there is one (to see Klippy come back)."""
    owner = instances.own_moonraker(klipper.klippy_of(service.unit), given, False, report)
    if owner.moonraker:
        service.moonraker, service.own_moonraker = owner.moonraker, True
    return service


def _refuse_while_printing(service: KlipperService, klippy: klipper.Klippy, given: Moonraker,
                           request: FlashRequest, report: Callable[[str], None]) -> None:
    """Refuse while a print runs, and while Klipper runs and its print state cannot be read from
    its own Moonraker."""
    owner = instances.own_moonraker(klippy, given, _explicit(request), report)
    own = owner.moonraker
    problem: Exception | None = None
    if own:
        service.moonraker, service.own_moonraker = own, True
        try:
            status = own.print_status()
        except (MoonrakerError, MoonrakerUnavailable) as err:
            problem = err
    elif owner.given_error and not owner.given_is_other:
        problem = owner.given_error
    else:
        problem = instances.explain(owner, service.unit)
    if problem is not None:
        why, fix = _why_unreadable(problem, service, request)
        if not request.force:
            raise FirmwareError(
                f"{service.unit} is running and its print state cannot be read ({why}); "
                "flashing would stop Klipper and end a print", f"{fix}; or, if no print runs, flash with --force",
            )
        report(f"--force: flashing although the print state of {service.unit} cannot be read ({why})")
        return
    report(f"print state of {service.unit}: {status.state} (from its Moonraker, {own.where if own else '?'})")
    if status.state not in ("printing", "paused"):
        return
    if request.force:
        report(f"--force: flashing although a print is {status.state}")
        return
    if status.klippy in ("shutdown", "error"):
        raise FirmwareError(
            f"A print is {status.state} on {service.unit}, kept so after Klipper stopped with an error "
            f"(Klippy is {status.klippy}: {status.message or 'no message'}); flashing would stop Klipper and end it",
            "Moonraker refuses to resume or cancel it now: send FIRMWARE_RESTART (console, or POST "
            "/printer/firmware_restart), which ends the print, then flash; or flash with --force",
        )
    raise FirmwareError(
        f"A print is {status.state} on {service.unit}; flashing would stop Klipper and end it",
        "wait for the print to finish or cancel it; --force flashes anyway",
    )


def _why_unreadable(cause: Exception, service: KlipperService, request: FlashRequest) -> tuple[str, str]:
    """Why the print state cannot be read, and what would fix it."""
    if isinstance(cause, instances.NotItsMoonraker):
        return str(cause), (
            f"name the Moonraker of {service.unit} with --moonraker-socket (<its data path>/comms/moonraker.sock) "
            "or --moonraker (the port in its moonraker.conf [server]), or name the unit that Moonraker "
            "serves with --service")
    if isinstance(cause, MoonrakerError) and cause.refused and cause.keyed:
        return f"Moonraker rejects the API key given: {cause}", klipper.KEY_REJECTED_HINT
    if isinstance(cause, MoonrakerError) and cause.refused:
        return f"Moonraker refuses us: {cause}", klipper.moonraker_hint(cause, service.unit)
    wait = f"wait until Klipper is ready (check `systemctl status {service.unit}` and klippy.log)"
    if isinstance(cause, MoonrakerError) and cause.status == 404:
        return (f"Klippy has not connected to Moonraker since Moonraker started (Moonraker serves the "
                f"printer's objects only from then on): {cause}", wait)
    if isinstance(cause, MoonrakerError) and cause.status in (503, 0):
        said = "not ready" if cause.status == 0 else "not connected to Moonraker"
        return f"Klippy is {said}: {cause}", wait
    if isinstance(cause, MoonrakerError):
        return f"Moonraker answered with an error: {cause}", "check moonraker.log"
    return (str(cause), f"check --moonraker ({request.moonraker_url}) or --moonraker-socket: they must reach "
                        f"the Moonraker of {service.unit}, and Moonraker must run")


def _refuse_while_others_hold(port: ports.SerialPort, service: KlipperService, klippy: klipper.Klippy) -> None:
    """Before anything is stopped: refuse if a process other than the unit's holds the port
    (stopping Klipper would not free it)."""
    others = holders.port_holders(port.device, ignore_unit=service.unit, ignore_pids={klippy.main_pid})
    if others:
        raise FirmwareError(
            f"{port.name} is held by another process than {service.unit}; not stopping anything:\n"
            + "\n".join(f"  {h}" for h in others),
            "close that program (serial monitor, another Klipper instance: --service) and flash again",
        )


def _flash_with_klipper_stopped(
    stopped: KlipperService | None,
    restart: list[KlipperService],
    port: ports.SerialPort,
    argv: list[str],
    request: FlashRequest,
    report: Callable[[str], None],
    out: TextIO,
) -> None:
    """Stop `stopped` (the unit that runs), flash, and start `restart` again whatever happened;
    the journal says at every step what is stopped, for a run that is killed outright."""
    outcome: BaseException | None = None
    interrupts = _Interrupts(report)
    record = journal.begin(port.identity, port.device, port.name)
    record.stopped = [service.unit for service in restart]
    journal.save(record)
    with interrupts.routed():
        try:
            if stopped:
                report(f"stopping {stopped.unit} {stopped.via}")
                stopped.stop(report)
                report(f"{stopped.unit} stopped")
            _flash(port, argv, request, report, out, record)
        except BaseException as err:  # noqa: BLE001 - every outcome must reach the restart below
            outcome = err
        interrupts.hold("Klipper is put back first")
        failures = [failure for service in restart if (failure := _restart(service, report))]
    if not failures:
        journal.clear(record)
    if isinstance(outcome, (KeyboardInterrupt, Terminated)):
        name = "Ctrl-C" if isinstance(outcome, KeyboardInterrupt) else str(outcome)
        outcome = FirmwareError(
            f"Flash interrupted by {name}; the board may hold a partial image",
            "flash again; the bootloader stays reachable with BOOT held at reset",
        )
    if failures:
        failure = failures[0]
        if outcome is None:
            raise FirmwareError(f"Firmware flashed, but {failure.message}", failure.hint)
        if isinstance(outcome, FirmwareError):
            raise FirmwareError(f"{outcome.message}\nAlso, {failure.message}", failure.hint)
    if outcome:
        raise outcome


def _flash(
    port: ports.SerialPort, argv: list[str], request: FlashRequest, report: Callable[[str], None], out: TextIO,
    record: journal.Journal,
) -> None:
    held_by = holders.wait_port_free(port.device, PORT_RELEASE_TIMEOUT)
    if held_by:
        raise FirmwareError(
            f"{port.name} is still held by another process; not flashing:\n" + "\n".join(f"  {h}" for h in held_by),
            "close that program (serial monitor, another Klipper instance: --service) and flash again",
        )
    report(f"{port.name} is free")
    if request.dtr_rts:
        report(f"pulsing DTR/RTS on {port.name} to enter the bootloader")
        report(f"bootloader answered ({bootloader.enter_bootloader(port.device)})")
    log = flash_log(request.project_dir)
    report(f"running {shlex.join(argv)}")

    def started(pid: int) -> None:
        record.wchisp_pid, record.wchisp_start = pid, journal.process_start(pid)
        journal.save(record)

    try:
        status, lines = wchisp.run(argv, log, out, started)
    except OSError as err:
        raise FirmwareError(f"Could not run wchisp: {err}", f"check that {log.parent} is writable") from None
    if status != 0:
        raise wchisp.explain(status, lines, port.name, log)
    report(f"flashed {request.firmware} (wchisp log: {log})")


def _restart(service: KlipperService, report: Callable[[str], None]) -> FirmwareError | None:
    """Start `service` again if it is down; return what went wrong, if anything."""
    if service.running():
        report(f"{service.unit} is running")
        return None
    report(f"starting {service.unit} again {service.via}")
    try:
        service.start(report)
    except FirmwareError as err:
        report(f"could NOT restart {service.unit}: {err.message}")
        return FirmwareError(
            f"{service.unit} could not be restarted: {err.message}",
            f"start it yourself (sudo systemctl start {service.unit}) or run "
            "`python -m generator flash --restore`",
        )
    report(f"{service.unit} is running again")
    _say_whether_klippy_is_back(service, report)
    return None


def _say_whether_klippy_is_back(service: KlipperService, report: Callable[[str], None]) -> None:
    """Wait (up to READY_TIMEOUT) for the unit's Klippy to be ready, through its own Moonraker, and
    say how it came back; when no Moonraker can tell, say so (the flash has not failed)."""
    if not (service.moonraker and service.own_moonraker):
        report(f"whether the printer of {service.unit} is ready again cannot be told: no Moonraker of its own "
               "was found (check Mainsail/Fluidd or klippy.log)")
        return
    moonraker = service.moonraker
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        with klipper.saying_it_waits(report, f"Klippy of {service.unit} to be ready"):
            while (state := moonraker.klippy_state()) not in ("ready", "shutdown", "error") and \
                    time.monotonic() < deadline:
                time.sleep(READY_POLL)
        message = moonraker.klippy_message() if state in ("shutdown", "error") else ""
    except (MoonrakerError, MoonrakerUnavailable) as err:
        report(f"Moonraker ({moonraker.where}) cannot tell whether the printer of {service.unit} is ready ({err})")
        return
    if state == "ready":
        report(f"the printer of {service.unit} is back: Klippy is ready")
    elif state in ("shutdown", "error"):
        report(f"the printer of {service.unit} is NOT ready: Klippy is in {state} ({message or 'no message'}); "
               "check klippy.log (a new MCU firmware may need Klipper rebuilt for it), then FIRMWARE_RESTART")
    else:
        report(f"the printer of {service.unit} is not ready after {READY_TIMEOUT:.0f} s (Klippy: {state}); "
               "check Mainsail/Fluidd or klippy.log")


class _Interrupts:
    """SIGINT, SIGTERM and SIGHUP raise while the flash runs; once `hold` is called they are only
    reported, so that nothing cuts the restart of Klipper short."""

    def __init__(self, report: Callable[[str], None]) -> None:
        self.report = report
        self.holding = ""

    def hold(self, why: str) -> None:
        self.holding = why

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.holding:
            self.report(f"{name} received; {self.holding}")
        elif signum == signal.SIGINT:
            raise KeyboardInterrupt
        else:
            raise Terminated(name)

    @contextlib.contextmanager
    def routed(self) -> Iterator[None]:
        """Route the signals here for the block (only the main thread can; SCons may use others)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old if old is not None else signal.SIG_DFL)
