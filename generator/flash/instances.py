"""Which Klipper unit uses a port, and which Moonraker is that unit's own, on hosts with one printer
or several (KIAUH: units klipper-1, klipper-2, ..., each with its ~/printer_N_data/ and Moonraker).

Every Moonraker lists every klipper* unit of its host and stops any of them, but it knows the print
of one Klippy only: the one on its [server] klippy_uds_address, whose unit it reports as
instance_ids.klipper once that Klippy has connected (until then it says "klipper"). So a print
state counts only from a Moonraker that names the unit, or that serves the unit's own socket.
"""
from __future__ import annotations

import configparser
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from generator.flash import klipper
from generator.flash.moonraker import Moonraker, MoonrakerError, MoonrakerUnavailable
from generator.host.ports import SerialPort

_SECTION = re.compile(r"^\[([^\]]+)\]")
_OPTION = re.compile(r"^(\w+)\s*[:=]\s*(.*)$")


def home() -> Path:
    """The home whose printer_data folders are looked at (tests point it elsewhere)."""
    return Path.home()


class NotItsMoonraker(Exception):
    """No Moonraker found that is the unit's own; the message names the instances seen."""


@dataclass
class Owner:
    """The unit's own Moonraker, or what was seen instead."""

    moonraker: Moonraker | None
    seen: list[str] = field(default_factory=list)
    given_is_other: bool = False  # the Moonraker the user named serves another unit
    given_error: MoonrakerError | MoonrakerUnavailable | None = None  # why the one given could not say


def mcu_serials(config: Path) -> list[str]:
    """The `serial` of every [mcu] and [mcu NAME] section of a Klipper config, following its
    [include ...] globs (relative to the including file) as Klipper does; unreadable files count
    as empty."""
    serials: list[str] = []
    _read_config(config, serials, set())
    return serials


def _read_config(path: Path, serials: list[str], visited: set[Path]) -> None:
    real = path.resolve()
    if real in visited:
        return
    visited.add(real)
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return
    section = ""
    for raw in lines:
        line = raw.split("#", 1)[0].split(";", 1)[0].rstrip()
        header = _SECTION.match(line)
        if header:
            section = header.group(1).strip()
            if section.startswith("include "):
                for included in sorted(path.parent.glob(section[len("include "):].strip())):
                    _read_config(included, serials, visited)
            continue
        option = _OPTION.match(line) if not line[:1].isspace() else None
        if option and option.group(1) == "serial" and (section == "mcu" or section.startswith("mcu ")):
            serials.append(os.path.expanduser(option.group(2).strip()))


def names_port(serial: str, port: SerialPort) -> bool:
    """Whether a config's `serial:` is this port (by any of its names, or the device behind it)."""
    return serial in (port.name, port.device, *port.by_id, *port.by_path) or os.path.realpath(serial) == port.device


def units_on_port(port: SerialPort, klippies: list[klipper.Klippy]) -> list[klipper.Klippy]:
    """Those of `klippies` whose Klipper config names `port` in an [mcu] section."""
    return [klippy for klippy in klippies
            if klippy.config and any(names_port(serial, port) for serial in mcu_serials(klippy.config))]


def data_dirs(klippy: klipper.Klippy) -> list[Path]:
    """Moonraker data folders to look in: the unit's own first, then ~/printer_data and
    ~/printer_*_data."""
    found = [klippy.data_dir] if klippy.data_dir else []
    base = home()
    found += [base / "printer_data", *sorted(base.glob("printer_*_data"))]
    return list(dict.fromkeys(found))


def moonrakers_in(data_dir: Path, api_key: str | None) -> Iterator[Moonraker]:
    """The Moonraker of a data folder: its socket (comms/moonraker.sock), and its HTTP port from
    config/moonraker.conf's [server] (default 7125) on this host."""
    sock = data_dir / "comms" / "moonraker.sock"
    if sock.exists():
        yield Moonraker(socket_path=sock)
    conf = configparser.ConfigParser(strict=False, interpolation=None, inline_comment_prefixes=("#", ";"))
    try:
        conf.read(data_dir / "config" / "moonraker.conf")
    except configparser.Error:
        return
    if conf.has_section("server"):
        port = conf.get("server", "port", fallback="7125").strip()
        if port.isdigit():
            yield Moonraker(f"http://localhost:{port}", api_key)


def own_moonraker(klippy: klipper.Klippy, given: Moonraker, explicit: bool, report: Callable[[str], None]) -> Owner:
    """The Moonraker of `klippy`'s unit: the one given if it is the unit's, else one found in the
    unit's data folder or in ~/printer*_data. `explicit`: the user named the one given."""
    unit = klippy.unit
    owner = Owner(None)
    candidates = [given, *(m for folder in data_dirs(klippy) for m in moonrakers_in(folder, given.api_key))]
    asked: set[str] = set()
    for candidate in candidates:
        if candidate.where in asked:
            continue
        asked.add(candidate.where)
        try:
            verdict = _whose(candidate, unit, klippy)
        except (MoonrakerError, MoonrakerUnavailable) as err:
            owner.given_error = err if candidate is given else owner.given_error
            verdict = f"does not answer ({err})" if isinstance(err, MoonrakerUnavailable) else (
                f"refuses us ({err})" if err.refused else f"answered with an error ({err})")
        if verdict is None:
            owner.moonraker = candidate
            if candidate is not given:
                report(f"the Moonraker of {unit} is at {candidate.where}")
            return owner
        owner.seen.append(f"{candidate.where} {verdict}")
        if candidate is given and explicit and verdict.startswith(("belongs ", "serves ")):
            owner.given_is_other = True
            return owner
    return owner


def _whose(moonraker: Moonraker, unit: str, klippy: klipper.Klippy) -> str | None:
    """None if `moonraker` is the unit's own, else what it is (for messages)."""
    service = unit.removesuffix(".service")
    info = moonraker.system_info()
    instance = str((info.get("instance_ids") or {}).get("klipper") or "")
    socket = moonraker.klippy_socket()
    same_socket = None if not (socket and klippy.api_socket) else \
        os.path.realpath(socket) == os.path.realpath(klippy.api_socket)
    never_connected = instance == "klipper" and "klipper" not in (info.get("available_services") or [])
    if same_socket is False:
        named = f"belongs to {instance} (its instance_ids.klipper) and " if not never_connected else ""
        return f"{named}serves the Klippy on {socket}, not {unit}'s on {klippy.api_socket}"
    if instance == service or (never_connected and same_socket):
        return None
    if never_connected:
        return ("has not seen a Klippy connect since it started (its instance_ids.klipper is the default "
                "'klipper'), so it cannot say whose it is")
    return f"belongs to {instance} (its instance_ids.klipper)"


def explain(owner: Owner, unit: str) -> NotItsMoonraker:
    """Why the print state of `unit` cannot be read from any Moonraker seen, naming them."""
    seen = "; ".join(owner.seen) or "none"
    if owner.given_is_other:
        return NotItsMoonraker(f"the Moonraker given is not {unit}'s: {seen}")
    return NotItsMoonraker(f"no Moonraker of {unit} was found (Moonrakers seen: {seen})")
