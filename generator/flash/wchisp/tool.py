"""wchisp: finding it, its exact command line, running it with its output shown and logged,
and explaining the errors it is known to print."""
from __future__ import annotations

import codecs
import os
import re
import shlex
import shutil
import subprocess
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


def run(argv: list[str], log_path: Path, out: TextIO) -> tuple[int, list[str]]:
    """Run wchisp, echoing its output to `out` as it comes and its lines to `log_path`.

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


# (what wchisp prints, what it means, how to fix it); `{port}` is the port flashed.
_KNOWN_ERRORS = [
    (
        ("Permission denied", "no enough permission", "Access denied"),
        "no permission to open {port}",
        "add yourself to the dialout group (`sudo usermod -aG dialout $USER`, then log in again); "
        "USB ISP mode also needs a udev rule for 4348:55e0 / 1a86:55e0",
    ),
    (
        ("Device or resource busy", "already in use"),
        "{port} is held by another program",
        "close serial monitors and any other Klipper instance using it; stop ModemManager if it probes the port",
    ),
    (
        ("Verify failed, mismatch", "erase failed"),
        "the flash did not take: the chip is read-protected",
        "remove the protection with `wchisp -s -p {port} config unprotect`, then enter the bootloader "
        "again (hold BOOT, tap RESET, release BOOT) and flash again",
    ),
    (
        ("timed out", "invalid serial header", "incorrect checksum", "idenfity chip failed", "Invalid response"),
        "the chip did not answer as a WCH bootloader: it is not in bootloader mode",
        "hold BOOT, tap RESET, release BOOT, then flash again within a few seconds; boards wired for "
        "auto-download can use --dtr-rts (custom_wchisp_dtr_rts = yes); check TX/RX wiring",
    ),
    (
        ("No such file or directory",),
        "{port} went away",
        "check the cable; if the board re-enumerated, use its /dev/serial/by-id or by-path name",
    ),
]


def explain(status: int, lines: list[str], port: str, log_path: Path) -> FirmwareError:
    """A FirmwareError saying what wchisp's failure means and how to fix it."""
    errors = [line for line in lines if line.startswith("Error:")]
    said = errors[-1] if errors else f"exit status {status}"
    text = "\n".join(lines).lower()
    for patterns, meaning, hint in _KNOWN_ERRORS:
        if any(pattern.lower() in text for pattern in patterns):
            return FirmwareError(f"wchisp failed ({said}): {meaning.format(port=port)}", hint.format(port=port))
    return FirmwareError(f"wchisp failed ({said})", f"its full output is in {log_path}")
