"""The whole flash: preflight, Klipper out of the way, wchisp, and Klipper put back, always."""
from __future__ import annotations

import contextlib
import shlex
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TextIO

from generator.boards import board_facts
from generator.errors import FirmwareError
from generator.flash import image, klipper, lock
from generator.flash.klipper import KlipperService
from generator.flash.moonraker import (
    DEFAULT_URL,
    Moonraker,
    MoonrakerError,
    MoonrakerUnavailable,
)
from generator.flash.wchisp import bootloader
from generator.flash.wchisp import tool as wchisp
from generator.host import holders, ports
from generator.paths import flash_log

PORT_RELEASE_TIMEOUT = 3.0  # seconds for the port to be let go once Klipper is down
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
    port, why = ports.choose_port(request.device, board, "--device PORT (or upload_port in platformio.ini)")
    argv = wchisp.command(executable, port.name, baud, request.firmware)
    report(f"port {port.summary()} ({why})")
    service = _klipper_service(request, report)
    running = service if service and service.running() else None
    if service:
        report(f"{service.unit} is {'running' if running else 'not running; it will be left stopped'}")
    if running:
        _refuse_while_printing(running, request, report)

    if request.dry_run:
        report(f"dry run: would take the lock {lock.lock_path(port.device)}")
        if running:
            report(f"dry run: would stop {running.unit} {running.via}")
        report(f"dry run: would check that no other process holds {port.device}")
        if request.dtr_rts:
            report(f"dry run: would pulse DTR/RTS on {port.name} to enter the bootloader")
        report(f"dry run: would run: {shlex.join(argv)}")
        if running:
            report(f"dry run: would start {running.unit} again {running.via}")
        report("dry run: nothing was changed")
        return
    with lock.port_lock(port.device, port.name):
        _flash_with_klipper_stopped(running, port, argv, request, report, out)


def _klipper_service(request: FlashRequest, report: Callable[[str], None]) -> KlipperService | None:
    moonraker = Moonraker(request.moonraker_url)
    try:
        info = moonraker.system_info()
        report(f"Moonraker answers at {moonraker.url}")
    except (MoonrakerUnavailable, MoonrakerError) as err:
        info = None
        report(f"Moonraker not used: {err}")
    service = klipper.find_service(request.service, moonraker if info else None, info)
    if service is None:
        report("no Klipper unit found; nothing to stop")
    return service


def _refuse_while_printing(service: KlipperService, request: FlashRequest, report: Callable[[str], None]) -> None:
    if not service.moonraker:
        report(f"cannot tell whether {service.unit} is printing (no Moonraker for it); make sure it is not")
        return
    try:
        state = service.moonraker.print_state()
    except (MoonrakerError, MoonrakerUnavailable) as err:
        report(f"cannot tell whether {service.unit} is printing ({err}); make sure it is not")
        return
    report(f"print state: {state}")
    if state in ("printing", "paused"):
        if not request.force:
            raise FirmwareError(
                f"A print is {state} on {service.unit}; flashing would stop Klipper and end it",
                "wait for the print to finish or cancel it; --force flashes anyway",
            )
        report(f"--force: flashing although a print is {state}")


def _flash_with_klipper_stopped(
    stopped: KlipperService | None,
    port: ports.SerialPort,
    argv: list[str],
    request: FlashRequest,
    report: Callable[[str], None],
    out: TextIO,
) -> None:
    """Stop `stopped` (the unit that runs), flash, and start it again whatever happened."""
    outcome: BaseException | None = None
    interrupts = _Interrupts(report)
    with interrupts.routed():
        try:
            if stopped:
                report(f"stopping {stopped.unit} {stopped.via}")
                stopped.stop()
                report(f"{stopped.unit} stopped")
            _flash(port, argv, request, report, out)
        except BaseException as err:  # noqa: BLE001 - every outcome must reach the restart below
            outcome = err
        interrupts.hold("Klipper is put back first")
        restart_failure = _restart(stopped, report) if stopped else None
    if isinstance(outcome, (KeyboardInterrupt, Terminated)):
        name = "Ctrl-C" if isinstance(outcome, KeyboardInterrupt) else str(outcome)
        outcome = FirmwareError(
            f"Flash interrupted by {name}; the board may hold a partial image",
            "flash again; the bootloader stays reachable with BOOT held at reset",
        )
    if restart_failure:
        if outcome is None:
            raise FirmwareError(f"Firmware flashed, but {restart_failure.message}", restart_failure.hint)
        if isinstance(outcome, FirmwareError):
            raise FirmwareError(f"{outcome.message}\nAlso, {restart_failure.message}", restart_failure.hint)
    if outcome:
        raise outcome


def _flash(
    port: ports.SerialPort, argv: list[str], request: FlashRequest, report: Callable[[str], None], out: TextIO
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
    try:
        status, lines = wchisp.run(argv, log, out)
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
        service.start()
    except FirmwareError as err:
        report(f"could NOT restart {service.unit}: {err.message}")
        return FirmwareError(
            f"{service.unit} could not be restarted: {err.message}",
            f"start it yourself: sudo systemctl start {service.unit}",
        )
    report(f"{service.unit} is running again")
    return None


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
