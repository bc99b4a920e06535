#!/usr/bin/env python3
"""Fake wchisp 0.3.x. Accepts only wchisp's real grammar (clap: transport options before the
subcommand, -s excludes -u/-d, -p/-b need -s, -b in 115200|1m|2m), exits 2 with clap's messages on
bad usage and 1 with `Error: ...` on failure, as the real one does.

In serial mode it really opens the port: it refuses a port another process holds, puts it in raw
mode and speaks the ISP protocol's identify and read-config requests to whatever is on the other
side (tests.fakes.board), so "bootloader not entered" and "read-protected" come from the board.
USB mode has no device, as on a machine without a WCH ISP USB device.

$FAKE_SYSTEM_DIR/state.json "wchisp": {"hang": true} makes it stop in the middle of writing
until it is signalled (at most a minute). Each run and its end are written to the step log.
"""
import hashlib
import os
import select
import signal
import sys
import time
import tty

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import fakesys

VERSION = "wchisp 0.3.0"
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
    print(time.strftime("%H:%M:%S") + f" [INFO] {message}", flush=True)


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
    """Send one request; return the reply's payload, or raise RuntimeError with wchisp's message."""
    os.write(fd, frame(raw))
    header = read_exact(fd, 6)
    if header[:2] != b"\x55\xaa":
        raise RuntimeError(f"Response has invalid serial header [{header[0]:02x}, {header[1]:02x}]")
    length = int.from_bytes(header[4:6], "little")
    rest = read_exact(fd, length + 1)
    if (sum(header[2:]) + sum(rest[:-1])) & 0xFF != rest[-1]:
        raise RuntimeError("Response has incorrect checksum")
    return rest[:-1]


def read_exact(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        ready, _, _ = select.select([fd], [], [], 1.0)  # wchisp's serial timeout is 1000 ms
        if not ready:
            raise RuntimeError("Operation timed out")
        data += os.read(fd, size - len(data))
    return data


def open_serial(port: str | None) -> tuple[int, bool]:
    """Open the port as wchisp does; identify the chip; return the fd and whether flash is protected."""
    if port is None:
        ports = [f"/dev/{d}" for d in sorted(os.listdir("/dev")) if d.startswith(("ttyUSB", "ttyACM"))]
        if not ports:
            raise RuntimeError("No serial ports found!")
        port = ports[0]
    info(f'Opening serial port: "{port}" @ 115200 baud')
    if not os.path.exists(port):
        raise RuntimeError("No such file or directory")
    if fakesys.other_holders(port):
        raise RuntimeError("Device or resource busy")
    fd = os.open(port, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    chip = transfer(fd, bytes([0xA1, 0x12, 0x00, 0x00, 0x00]) + b"MCU ISP & WCH.CN")
    if chip[:2] != b"\x31\x19":
        raise RuntimeError(f"Device not found in chip database: 0x{chip[0]:02x}{chip[1]:02x}")
    config = transfer(fd, bytes([0xA7, 0x02, 0x00, 0x1F, 0x00]))
    protected = config[2] != 0xA5
    info("Chip: CH32V203C8T6[0x3119] (Code Flash: 64KiB)")
    info("Chip UID: " + "-".join(f"{b:02X}" for b in config[18:26]))
    info("BTVER(bootloader ver): 0270")
    info(f"Code Flash protected: {str(protected).lower()}")
    return fd, protected


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


def flash(fd: int, protected: bool, path: str, flags: set[str]) -> None:
    data = read_binary(path)
    size = -(-len(data) // 1024) * 1024
    info(f"Firmware size: {size}")
    if not flags & {"-E", "--no-erase"}:
        info("Erasing...")
        info(f"Erased {size // 1024 + 1} code flash sectors")
        info("Erase done")
    hang = fakesys.read_state().get("wchisp", {}).get("hang")
    info("Writing to code flash...")
    fakesys.log("wchisp writing")
    if hang:  # until signalled; an orphan gives up
        time.sleep(60)
        raise RuntimeError("fake wchisp: nobody ended the hang")
    for done in range(0, size + 1, max(size // 4, 1)):
        if sys.stdout.isatty():  # indicatif draws its bar on terminals only
            print(f"\r[{'#' * (done * 20 // size):<20}] {done}/{size}", end="", flush=True)
    if sys.stdout.isatty():
        print()
    info(f"Code flash {size} bytes written")
    if not flags & {"-V", "--no-verify"}:
        info("Verifying...")
        if protected:
            raise RuntimeError("Verify failed, mismatch")
        info("Verify OK")
    if not flags & {"-R", "--no-reset"}:
        info("Now reset device and skip any communication errors")
        info("Device reset")
    fakesys.log(f"wchisp flashed {hashlib.sha256(data).hexdigest()[:16]} from {path}")


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
        fd, protected = open_serial(options.get("port"))
        if command == "flash":
            flash(fd, protected, positionals[0], flags)
        elif command == "config" and positionals[:1] == ["unprotect"]:
            info("Code Flash unprotected")
            info("Device reset")
        os.close(fd)
    except (RuntimeError, OSError) as err:
        return fail(str(err) if isinstance(err, RuntimeError) else err.strerror)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
