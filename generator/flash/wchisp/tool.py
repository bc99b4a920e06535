"""wchisp: finding it, its exact command line, running it with its output shown and logged,
and explaining the errors it is known to print."""
from __future__ import annotations

import codecs
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from generator.errors import FirmwareError
from generator.paths import wchisp_in_project

# wchisp's -b values; it also accepts the long forms, which we normalise to its own short ones.
BAUD_VALUES = {"115200": "115200", "1000000": "1m", "1m": "1m", "2000000": "2m", "2m": "2m"}
DEFAULT_BAUD = "115200"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def locate(project_dir: Path, configured: str | None) -> tuple[Path, str]:
    """Find wchisp: the project's bin/, then PATH, then the configured path. Return it and where."""
    on_path = shutil.which("wchisp")
    places = [
        (wchisp_in_project(project_dir), "the project's bin/"),
        (Path(on_path) if on_path else None, "PATH"),
        (Path(configured).expanduser() if configured else None, "the configured path"),
    ]
    for path, where in places:
        if path and path.is_file():
            return path, where
    raise FirmwareError(
        "wchisp not found" + (f" (not in bin/, not on PATH, and {configured} does not exist)" if configured else ""),
        "install it with `cargo install wchisp` (or a release binary from github.com/ch32-rs/wchisp) "
        "into the project's bin/ or on PATH, or set --wchisp / custom_wchisp_path",
    )


def version(executable: Path) -> str:
    """`wchisp --version`, proving it runs on this machine."""
    try:
        done = subprocess.run(
            [str(executable), "--version"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise FirmwareError(
            f"wchisp at {executable} does not run: {err}",
            "reinstall it for this machine's architecture (`uname -m`), e.g. `cargo install wchisp`",
        ) from None
    if done.returncode != 0:
        raise FirmwareError(
            f"wchisp at {executable} does not run: `--version` exited with {done.returncode}: "
            f"{(done.stderr or done.stdout).strip()}",
            "reinstall it, e.g. `cargo install wchisp`",
        )
    return done.stdout.strip()


def baud_value(baud: str | int | None) -> str:
    """The -b argument for a baud rate given as 115200, 1000000, 1m, 2m, ..."""
    key = str(baud or DEFAULT_BAUD).strip().lower().replace("_", "")
    if key not in BAUD_VALUES:
        raise FirmwareError(f"wchisp cannot flash at {baud} baud", "use 115200 (the default), 1m or 2m")
    return BAUD_VALUES[key]


def command(executable: Path, port: str, baud: str, image: Path) -> list[str]:
    """wchisp's real grammar: transport options first, then the subcommand."""
    return [str(executable), "-s", "-p", port, "-b", baud, "flash", str(image)]


def run(argv: list[str], log_path: Path, out: TextIO,
        started: Callable[[int], None] | None = None) -> tuple[int, list[str]]:
    """Run wchisp, echoing its output to `out` as it comes and its lines to `log_path`;
    `started` gets its pid as soon as it runs.

    On a terminal wchisp gets a pty, so its progress bar keeps drawing. If this raises (Ctrl-C, a
    signal turned into an exception), wchisp is terminated before the exception goes on.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    reader, writer = os.openpty() if out.isatty() else os.pipe()
    with log_path.open("w", encoding="utf-8") as log:
        log.write(f"$ {shlex.join(argv)}\n")
        try:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=writer, stderr=writer)
        finally:
            os.close(writer)
        lines = _LineEcho(out, log)
        try:
            if started:
                started(process.pid)
            while chunk := _read(reader):
                lines.feed(chunk)
            lines.close()
            status = process.wait()
        except BaseException:
            log.write("interrupted: wchisp terminated\n")
            raise
        finally:
            _end(process)
            os.close(reader)
        log.write(f"exit status {status}\n")
    return status, lines.lines


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:  # a pty reports the child's exit as EIO
        return b""


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class _LineEcho:
    """Echo raw output at once; keep and log each finished line as it finally looked."""

    def __init__(self, out: TextIO, log: TextIO) -> None:
        self.out, self.log = out, log
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.pending = ""
        self.lines: list[str] = []

    def feed(self, chunk: bytes) -> None:
        text = self.decoder.decode(chunk)
        self.out.write(text)
        self.out.flush()
        self.pending += text
        *done, self.pending = self.pending.split("\n")
        for line in done:
            self._keep(line)

    def close(self) -> None:
        self.feed(b"")
        if self.pending:
            self.out.write("\n")
            self._keep(self.pending)
            self.pending = ""

    def _keep(self, raw: str) -> None:
        line = _ANSI.sub("", raw).rstrip("\r").rsplit("\r", 1)[-1].rstrip()
        self.lines.append(line)
        self.log.write(line + "\n")
        self.log.flush()


# wchisp 0.3.0 and HEAD over serial (src/transport/serial.rs, src/flashing.rs, serialport-rs
# src/posix): what it prints, what it means, how to fix it; `{port}` is the port flashed.
# Messages that cannot come over serial (`idenfity chip failed`, `erase failed`, `Invalid
# response`: Response::from_raw is always Ok there) are not listed.
_HELD = (
    ("Device or resource busy", "Unable to acquire exclusive lock on serial port"),
    "{port} is held by another program",
    "close serial monitors and any other Klipper instance using it; stop ModemManager if it probes the port",
)
_PERMISSION = (
    ("Permission denied",),
    "no permission to open {port}",
    "add yourself to the dialout group (`sudo usermod -aG dialout $USER`, then log in again)",
)
_GONE = (
    ("No such file or directory",),
    "{port} went away",
    "check the cable; if the board re-enumerated, use its /dev/serial/by-id or by-path name",
)
# Before `Chip: ...`: nothing, or something else, answered the bootloader's requests.
_NO_BOOTLOADER = (
    ("Operation timed out", "invalid serial header", "incorrect checksum", "data length is zero",
     "command type mismatch", "Cannot find chip", "Device type of"),
    "the chip did not answer as a WCH bootloader: it is not in bootloader mode",
    "hold BOOT, tap RESET, release BOOT, then flash again within a few seconds; boards wired for "
    "auto-download can use --dtr-rts (custom_wchisp_dtr_rts = yes); check TX/RX wiring",
)
# After `Chip: ...`: the bootloader was there and the link failed during erase, write or verify.
_MID_FLASH = (
    ("Operation timed out", "invalid serial header", "incorrect checksum", "data length is zero",
     "command type mismatch", "isp_key checksum failed", "timeout for retrying flush", "flush failed"),
    "the bootloader answered, then the link failed in the middle of the flash: the board may hold "
    "a partial image",
    "flash again (the bootloader stays reachable: hold BOOT, tap RESET, release BOOT); at 1m or 2m "
    "try 115200; check the cable, and that nothing else opened {port} (a wchisp built with serialport "
    "< 4.8 does not notice another program on the port)",
)
UNPROTECT_HINT = (
    "clear it with `wchisp -s -p {port} config unprotect`, re-enter the bootloader (hold BOOT, tap "
    "RESET, release BOOT) and check that `wchisp -s -p {port} info` says `Code Flash protected: false`. "
    "wchisp 0.3.0, the latest release, sends that command with a wrong length (fixed after it, in "
    "commit 08ab9bf: use the `nightly` build or `cargo install --git https://github.com/ch32-rs/wchisp "
    "--locked`); it reports success even when nothing changed (wchisp issue #104). If the chip stays "
    "protected, clear it with WCH's own WCHISPTool"
)


def explain(status: int, lines: list[str], port: str, log_path: Path) -> FirmwareError:
    """A FirmwareError saying what wchisp's failure means and how to fix it."""
    errors = [line for line in lines if line.startswith("Error:")]
    said = errors[-1] if errors else f"exit status {status}"
    error = said.lower()
    identified = any(" [INFO] Chip: " in line or line.startswith("Chip: ") for line in lines)
    if any(line.rstrip().endswith("Code Flash protected: true") for line in lines):
        return FirmwareError(
            f"wchisp failed ({said}): the chip's code flash is read-protected "
            "(wchisp said `Code Flash protected: true`), so the image cannot be written",
            UNPROTECT_HINT.format(port=port),
        )
    if "verify failed" in error:
        return FirmwareError(
            f"wchisp failed ({said}): the image written does not read back",
            f"flash again; if it repeats, run `wchisp -s -p {port} info` and check `Code Flash protected`",
        )
    for patterns, meaning, hint in (_HELD, _PERMISSION, _GONE, _MID_FLASH if identified else _NO_BOOTLOADER):
        if any(pattern.lower() in error for pattern in patterns):
            return FirmwareError(f"wchisp failed ({said}): {meaning.format(port=port)}", hint.format(port=port))
    if "uid checksum" in error:
        return FirmwareError(f"wchisp failed ({said}): the chip's unique id reads back garbled",
                             "check the cable and flash again at 115200")
    return FirmwareError(f"wchisp failed ({said})", f"its full output is in {log_path}")
