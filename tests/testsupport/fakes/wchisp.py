#!/usr/bin/env python3
"""Fake wchisp 0.3.0, after ch32-rs/wchisp v0.3.0 (f0f13c471bf04e050b987c19bc80bc394a3dca47) and
HEAD/nightly (104937111a771af0171315cf2da179b6af4f35e9), which both say `wchisp 0.3.0`. Accepts
only wchisp's real grammar (clap: transport options before the subcommand, -s excludes -u/-d,
-p/-b need -s, -b in 115200|1m|2m), exits 2 with clap's messages on bad usage and 1 with
`Error: ...` on stderr on failure, its log lines `HH:MM:SS [INFO] ...` on stdout.

In serial mode it really opens the port as serialport-rs does (TIOCEXCL; from 4.8 also an flock,
serialport 03a58d6b0f2ba8e4a7af32180c086930b75876cd) and speaks the ISP protocol with the board
(testsupport.fakes.board) in wchisp's order (main.rs flash, flashing.rs): SET_BAUD if -b is not
115200, IDENTIFY twice, READ_CONFIG and the UID check, the chip's info (`Code Flash protected: ...`
before anything is erased), ERASE, ISP_KEY, PROGRAM, ISP_KEY, VERIFY, ISP_END, the image padded
to whole 1 KiB sectors and with main.rs's pauses (1 s after the erase, 0.5 s after the write: a
20004-byte image is reported as 20480 bytes, 21 sectors erased). Its errors are the
texts serial.rs and serialport print: `Operation timed out`, `Response has invalid serial header
[xx, yy]`, `Response has incorrect checksum (aa != bb)`, `Verify failed, mismatch`, ...; the
messages that cannot come over serial (`idenfity chip failed`, `erase failed`, `Invalid
response`) never appear. USB mode has no device, as on a machine without a WCH ISP USB device.

$FAKE_SYSTEM_DIR/state.json "wchisp": {"hang": true} makes it stop in the middle of writing
until it is signalled (at most a minute); "serialport": "4.5.0" (default, the v0.3.0 release),
"4.7.3" (nightly) or "4.9.0" (a `cargo install` without --locked). Each run and its end are
written to the step log.
"""
import contextlib
import fcntl
import hashlib
import os
import select
import signal
import sys
import termios
import time
import tty
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import fakesys

VERSION = "wchisp 0.3.0"
SECTOR_SIZE = 1024  # constants.rs
MIN_ERASE_SECTORS = 8  # device.rs min_erase_sector_number(): 4 for device type 0x10, else 8
BAUDS = {"baud115200": 115200, "115200": 115200, "baud1m": 1000000, "1m": 1000000, "1000000": 1000000,
         "1_000_000": 1000000, "baud2m": 2000000, "2m": 2000000, "2000000": 2000000, "2_000_000": 2000000}
GLOBAL_FLAGS = {"-s": "serial", "--serial": "serial", "-u": "usb", "--usb": "usb",
                "-v": "verbose", "--verbose": "verbose"}
GLOBAL_VALUES = {"-p": "port", "--port": "port", "-b": "baudrate", "--baudrate": "baudrate",
                 "-d": "device", "--device": "device", "-r": "retry", "--retry": "retry"}
SHOWN = {"serial": "--serial", "usb": "--usb", "port": "--port <PORT>", "baudrate": "--baudrate <BAUDRATE>",
         "device": "--device <INDEX>", "verbose": "--verbose", "retry": "--retry <RETRY>"}
# subcommand -> (flags it takes, number of positionals it needs, usage)
COMMANDS = {
    "probe": ({}, 0, "wchisp probe"),
    "info": ({"--chip": "chip"}, 0, "wchisp info [OPTIONS]"),
    "reset": ({}, 0, "wchisp reset"),
    "erase": ({}, 0, "wchisp erase"),
    "flash": ({"-E": None, "--no-erase": None, "-V": None, "--no-verify": None, "-R": None, "--no-reset": None},
              1, "wchisp flash [OPTIONS] <PATH>"),
    "verify": ({}, 1, "wchisp verify <PATH>"),
    "config": ({}, None, "wchisp config [COMMAND]"),
    "eeprom": ({}, None, "wchisp eeprom [COMMAND]"),
}
CONFIG_COMMANDS = {"info", "reset", "enable-debug", "disable-debug", "unprotect", "set"}


class Usage(Exception):
    """A clap usage error: printed as `error: ...`, exit status 2."""


def info(message: str) -> None:
    log_line("INFO", message)


def log_line(level: str, message: str) -> None:
    print(time.strftime("%H:%M:%S") + f" [{level}] {message}", flush=True)


def fail(message: str) -> int:
    fakesys.log(f"wchisp failed: {message}")
    print(f"Error: {message}", file=sys.stderr, flush=True)
    return 1


def parse(argv: list[str]) -> tuple[dict, str | None, list[str], set[str]]:
    options: dict = {}
    args = list(argv)
    while args and args[0].startswith("-"):
        arg = args.pop(0)
        if arg in ("-V", "--version"):
            print(VERSION)
            sys.exit(0)
        name, value = (arg.split("=", 1) + [None])[:2] if arg.startswith("--") else (arg[:2], arg[2:] or None)
        if name in GLOBAL_FLAGS and value is None:
            key = GLOBAL_FLAGS[name]
            value = True
        elif name in GLOBAL_VALUES:
            key = GLOBAL_VALUES[name]
            if value is None:
                if not args:
                    raise Usage(f"a value is required for '{SHOWN[key]}' but none was supplied")
                value = args.pop(0)
        else:
            raise Usage(f"unexpected argument '{arg}' found")
        if key in options:
            raise Usage(f"the argument '{SHOWN[key]}' cannot be used multiple times")
        options[key] = value
    if "baudrate" in options and options["baudrate"].lower() not in BAUDS:
        raise Usage(f"invalid value '{options['baudrate']}' for '--baudrate <BAUDRATE>'\n"
                    "  [possible values: baud115200, baud1m, baud2m]")
    if "device" in options and not options["device"].isdigit():
        raise Usage(f"invalid value '{options['device']}' for '--device <INDEX>': invalid digit found in string")
    command = args.pop(0) if args else None
    if command is not None and command not in COMMANDS:
        raise Usage(f"unrecognized subcommand '{command}'")
    flags, positionals = set(), []
    if command:
        accepted, needed, usage = COMMANDS[command]
        while args:
            arg = args.pop(0)
            if arg.startswith("-") and len(arg) > 1:
                if arg.split("=", 1)[0] not in accepted:
                    raise Usage(f"unexpected argument '{arg}' found\n\nUsage: {usage}")
                flags.add(arg)
                if accepted[arg.split("=", 1)[0]] and "=" not in arg and not args:
                    raise Usage(f"a value is required for '{arg}' but none was supplied")
                if accepted[arg.split("=", 1)[0]] and "=" not in arg:
                    args.pop(0)
            elif needed is None:
                positionals.append(arg)
            elif len(positionals) < needed:
                positionals.append(arg)
            else:
                raise Usage(f"unexpected argument '{arg}' found\n\nUsage: {usage}")
        if needed and len(positionals) < needed:
            raise Usage(f"the following required arguments were not provided:\n  <PATH>\n\nUsage: {usage}")
        if command == "config" and positionals and positionals[0] not in CONFIG_COMMANDS:
            raise Usage(f"unrecognized subcommand '{positionals[0]}'")
    # clap checks conflicts and requirements once everything is parsed
    if options.get("serial") and "usb" in options:
        raise Usage("the argument '--serial' cannot be used with '--usb'")
    if options.get("serial") and "device" in options:
        raise Usage("the argument '--serial' cannot be used with '--device <INDEX>'")
    if "usb" in options and ("port" in options or "baudrate" in options):
        raise Usage(f"the argument '--usb' cannot be used with '{SHOWN['port' if 'port' in options else 'baudrate']}'")
    for key in ("port", "baudrate"):
        if key in options and not options.get("serial"):
            raise Usage("the following required arguments were not provided:\n  --serial")
    return options, command, positionals, flags


def frame(raw: bytes) -> bytes:
    return b"\x57\xab" + raw + bytes([sum(raw) & 0xFF])


def transfer(fd: int, raw: bytes) -> bytes:
    """Send one request; return the reply's payload, or raise RuntimeError with wchisp's message
    (serial.rs: the header, then the declared length, then the checksum)."""
    os.write(fd, frame(raw))
    header = read_exact(fd, 6)
    if header[:2] != b"\x55\xaa":
        raise RuntimeError(f"Response has invalid serial header [{header[0]:02x}, {header[1]:02x}]")
    length = int.from_bytes(header[4:6], "little")
    if length == 0:
        raise RuntimeError("Response data length is zero")
    rest = read_exact(fd, length + 1)
    computed = (sum(header[2:]) + sum(rest[:-1])) & 0xFF
    if computed != rest[-1]:
        raise RuntimeError(f"Response has incorrect checksum ({rest[-1]:02x} != {computed:02x})")
    if header[2] != raw[0]:
        raise RuntimeError("response command type mismatch")
    return rest[:-1]


def read_exact(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        ready, _, _ = select.select([fd], [], [], 1.0)  # SERIAL_TIMEOUT_MS = 1000, for every command
        if not ready:
            raise RuntimeError("Operation timed out")  # serialport's io::ErrorKind::TimedOut text
        data += os.read(fd, size - len(data))
    return data


def serialport_version() -> tuple[int, ...]:
    """serialport-rs this build links: 4.5.0 in the v0.3.0 release, 4.7.3 at HEAD (Cargo.lock),
    4.8+ from a `cargo install` without --locked."""
    version = fakesys.read_state().get("wchisp", {}).get("serialport", "4.5.0")
    return tuple(int(part) for part in version.split("."))


def open_port(port: str) -> int:
    """serialport's POSIX open: O_NOCTTY|O_NONBLOCK, TIOCEXCL, and from 4.8 an flock."""
    if not os.path.exists(port):
        raise RuntimeError("No such file or directory")
    # the kernel's EBUSY for a TIOCEXCL holder (the tests run as root, which it would let through)
    for pid in fakesys.other_holders(port):
        if "--tiocexcl" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0"):
            raise RuntimeError("Device or resource busy")
    fd = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    fcntl.ioctl(fd, termios.TIOCEXCL)
    if serialport_version() >= (4, 8):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RuntimeError("Unable to acquire exclusive lock on serial port") from None
    os.set_blocking(fd, True)
    tty.setraw(fd)
    return fd


def open_serial(port: str | None, baud: int) -> tuple[int, bool, bytes]:
    """Open the port as wchisp does, switch the baud rate, identify the chip and print its info
    (flashing.rs dump_info); return the fd, whether code flash is protected, and the XOR key."""
    if port is None:
        ports = [f"/dev/{d}" for d in sorted(os.listdir("/dev")) if d.startswith(("ttyUSB", "ttyACM"))]
        if not ports:
            raise RuntimeError("No serial ports found!")
        port = ports[0]
    info(f'Opening serial port: "{port}" @ 115200 baud')
    fd = open_port(port)
    if baud != 115200:
        reply = transfer(fd, bytes([0xC5, 0x04, 0x00]) + baud.to_bytes(4, "little"))
        if reply[0] == 0xFE:
            info("Custom baudrate not supported by the current chip. Using 115200")
        else:
            info(f"Switching baudrate to: {baud} baud")
    identify = bytes([0xA1, 0x12, 0x00, 0x00, 0x00]) + b"MCU ISP & WCH.CN"
    transfer(fd, identify)
    chip = transfer(fd, identify)
    if chip[:2] != b"\x31\x19":
        raise RuntimeError(f"Cannot find chip with id 0x{chip[0]:02x} device_type 0x{chip[1]:02x}")
    config = transfer(fd, bytes([0xA7, 0x02, 0x00, 0x1F, 0x00]))
    uid = config[18:26]
    half = [int.from_bytes(uid[i:i + 2], "little") for i in range(0, 8, 2)]
    if (half[0] + half[1] + half[2]) & 0xFFFF != half[3]:
        raise RuntimeError("Chip UID checksum failed!")
    protected = config[2] != 0xA5
    info("Chip: CH32V203C8T6[0x3119] (Code Flash: 64KiB)")
    info("Chip UID: " + "-".join(f"{b:02X}" for b in uid))
    btver = config[14:18]
    info(f"BTVER(bootloader ver): {btver[0]:x}{btver[1]:x}.{btver[2]:x}{btver[3]:x}")
    info(f"Code Flash protected: {str(protected).lower()}")
    info("Current config registers: " + config[2:14].hex())
    s = sum(uid) & 0xFF
    return fd, protected, bytes([s] * 7 + [(s + chip[0]) & 0xFF])


def read_binary(path: str) -> bytes:
    data = open(path, "rb").read()
    hexchars = set(b"0123456789abcdefABCDEF\r\n")
    if path.lower().endswith((".hex", ".ihex", ".ihe", ".h86", ".a43", ".a90")) or (
            data[:1] == b":" and all(c in hexchars or c == ord(":") for c in data)):
        info(f"Read {path} as IntelHex format")
        raise RuntimeError("fake wchisp: converting Intel HEX is not emulated; pass the raw .bin")
    if data.startswith(b"\x7fELF"):
        info(f"Read {path} as ELF format")
        if data[4:5] != b"\x01":
            raise RuntimeError("cannot read file as ELF32 format")
        raise RuntimeError("fake wchisp: converting ELF is not emulated; pass the raw .bin")
    info(f"Read {path} as Binary format")
    return data


def chunks(fd: int, command: int, data: bytes, key: bytes) -> bool:
    """PROGRAM or VERIFY in 56-byte chunks (address, one padding byte, XORed data), PROGRAM then
    with the empty final chunk it needs (VERIFY has none); False when the chip says a chunk does
    not match."""
    for address in [*range(0, len(data), 56), *([len(data)] if command == 0xA5 else [])]:
        part = bytes(b ^ key[i % 8] for i, b in enumerate(data[address:address + 56]))
        body = address.to_bytes(4, "little") + b"\x00" + part
        reply = transfer(fd, bytes([command]) + len(body).to_bytes(2, "little") + body)
        if command == 0xA6 and reply[0] != 0x00:
            return False
        if command == 0xA5 and address and sys.stdout.isatty():  # indicatif draws on terminals only
            print(f"\r[{'#' * (min(address, len(data)) * 20 // len(data)):<20}] {address}/{len(data)}", end="",
                  flush=True)
    return True


def isp_key(fd: int, key: bytes) -> None:
    reply = transfer(fd, bytes([0xA3, 0x1E, 0x00]) + bytes(30))
    if reply[0] != sum(key) & 0xFF:
        raise RuntimeError("isp_key checksum failed")


def flash(fd: int, key: bytes, path: str, flags: set[str]) -> None:
    """main.rs `Commands::Flash`: the image padded with zeros to a whole 1 KiB sector
    (extend_firmware_to_sector_boundary), erase (at least 8 sectors on this chip), 1 s pause,
    write, 0.5 s pause, verify, reset."""
    image = read_binary(path)
    data = image + bytes(-len(image) % SECTOR_SIZE)
    info(f"Firmware size: {len(data)}")
    if not flags & {"-E", "--no-erase"}:
        sectors = len(data) // SECTOR_SIZE + 1
        info("Erasing...")
        if sectors < MIN_ERASE_SECTORS:  # flashing.rs erase_code: min_erase_sector_number() for 0x19 is 8
            sectors = MIN_ERASE_SECTORS
            log_line("WARN", f"erase_code: set min number of erased sectors to {sectors}")
        transfer(fd, bytes([0xA4, 0x04, 0x00]) + sectors.to_bytes(4, "little"))
        info(f"Erased {sectors} code flash sectors")
        time.sleep(1.0)
        info("Erase done")
    else:
        log_line("WARN", "Skipping erase")
    info("Writing to code flash...")
    fakesys.log("wchisp writing")
    if fakesys.read_state().get("wchisp", {}).get("hang"):  # until signalled; an orphan gives up
        time.sleep(60)
        raise RuntimeError("fake wchisp: nobody ended the hang")
    isp_key(fd, key)
    chunks(fd, 0xA5, data, key)
    if sys.stdout.isatty():
        print(f"\r[{'#' * 20}] {len(data)}/{len(data)}", flush=True)
    info(f"Code flash {len(data)} bytes written")
    time.sleep(0.5)
    if not flags & {"-V", "--no-verify"}:
        info("Verifying...")
        isp_key(fd, key)
        if not chunks(fd, 0xA6, data, key):
            raise RuntimeError("Verify failed, mismatch")
        info("Verify OK")
    if not flags & {"-R", "--no-reset"}:
        info("Now reset device and skip any communication errors")
        with contextlib.suppress(RuntimeError):  # `let _ = flashing.reset()`: "Device reset" only if it answered
            transfer(fd, bytes([0xA2, 0x01, 0x00, 0x01]))
            info("Device reset")
    fakesys.log(f"wchisp flashed {hashlib.sha256(image).hexdigest()[:16]} from {path}")


def on_signal(signum: int, _frame: object) -> None:
    for other in (signal.SIGTERM, signal.SIGINT):  # the first signal is the one that ends it
        signal.signal(other, signal.SIG_IGN)
    fakesys.log(f"wchisp killed by {signal.Signals(signum).name}")
    sys.exit(128 + signum)


def main(argv: list[str]) -> int:
    try:
        options, command, positionals, flags = parse(argv)
    except Usage as err:
        print(f"error: {err}\n\nFor more information, try '--help'.", file=sys.stderr)
        return 2
    fakesys.log(" ".join(["wchisp", *argv]))
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if not options.get("serial"):
        if command in (None, "probe"):
            info("Found 0 USB devices")
            return 0
        info(f"Opening USB device #{options.get('device', 0)}")
        return fail(f"No WCH ISP USB device found(4348:55e0 or 1a86:55e0 device not found at index "
                    f"#{options.get('device', 0)})")
    try:
        if command in (None, "probe"):
            ports = [d for d in sorted(os.listdir("/dev")) if d.startswith(("ttyUSB", "ttyACM"))]
            info(f"Found {len(ports)} serial port{'' if len(ports) == 1 else 's'}:")
            return 0
        fd, _protected, key = open_serial(options.get("port"), BAUDS[options.get("baudrate", "115200").lower()])
        if command == "flash":
            flash(fd, key, positionals[0], flags)
        elif command == "config" and positionals[:1] == ["unprotect"]:
            info("Code Flash unprotected")
            info("Device reset")
        os.close(fd)
    except (RuntimeError, OSError) as err:
        return fail(str(err) if isinstance(err, RuntimeError) else err.strerror)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
