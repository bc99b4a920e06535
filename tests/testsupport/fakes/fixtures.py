"""pytest fixtures for the flashing tests: the fake system (PATH, units, rights, step log), a
board on a pty, a Moonraker on loopback. Import them into a test module with
`from testsupport.fakes.fixtures import *`."""
from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from generator.flash import flow, instances, klipper, lock
from generator.flash import moonraker as moonraker_client
from generator.host import holders

from . import fakesys
from .board import FakeBoard
from .moonraker import FakeMoonraker

FAKES = Path(__file__).parent
__all__ = ["FakeSystem", "Run", "board", "fake_system", "flash", "image", "kiauh_printer", "moonraker",
           "no_moonraker", "holder"]


class FakeSystem:
    """The fake machine's state, as the fakes see it."""

    def __init__(self, root: Path, home: Path | None = None) -> None:
        self.home = home or root / "home"  # the user's home: printer_data, printer_N_data
        self.dir = root / "system"
        self.bin = root / "bin"
        self.dir.mkdir()
        self.bin.mkdir()
        for tool in ("wchisp", "systemctl", "sudo"):  # this interpreter, without site: fast to start
            launcher = self.bin / tool
            launcher.write_text(f"#!{sys.executable} -S\nimport runpy\n"
                                f"runpy.run_path({str(FAKES / f'{tool}.py')!r}, run_name='__main__')\n")
            launcher.chmod(0o755)
        (self.dir / "steps.log").touch()
        (self.dir / "state.json").write_text(json.dumps({"root": True, "sudo": "nopasswd", "units": {
            "moonraker.service": {"state": "active"},
            "klipper-mcu.service": {"state": "active"},
        }}))

    def share_with(self, python: str) -> None:
        """Let another user's processes use the fakes: launchers run by `python` (one every user
        may run), the state and the step log writable by all."""
        for tool in ("wchisp", "systemctl", "sudo"):
            launcher = self.bin / tool
            launcher.write_text(launcher.read_text().replace(f"#!{sys.executable} ", f"#!{python} ", 1))
        (self.dir / "state.lock").touch()
        self.dir.chmod(0o777)
        for name in ("state.lock", "steps.log", "state.json"):
            (self.dir / name).chmod(0o666)

    def configure(self, **values: object) -> None:
        with fakesys.state() as state:
            state.update(values)

    def merge(self, key: str, **values: object) -> None:
        """Change some values of one part of the configuration (a Moonraker's, wchisp's)."""
        with fakesys.state() as state:
            state[key] = {**state.get(key, {}), **values}

    def add_unit(self, name: str, state: str = "active", port: str | None = None, **extra: object) -> None:
        with fakesys.state() as data:
            unit = {"state": "inactive", "port": port, "pid": None, **extra}
            if state == "active":
                fakesys.start_unit(unit)
            else:
                unit["state"] = state
            data["units"][name] = unit

    def update_unit(self, name: str, **values: object) -> None:
        with fakesys.state() as data:
            data["units"][name].update(values)

    def unit(self, name: str) -> dict:
        return fakesys.read_state()["units"][name]

    def steps(self) -> list[str]:
        return (self.dir / "steps.log").read_text().splitlines()

    def end_all(self) -> None:
        with fakesys.state() as data:
            for unit in data["units"].values():
                if unit.get("pid"):
                    fakesys.end_process(unit["pid"])


@pytest.fixture
def fake_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSystem]:
    """Fakes first on PATH, state in tmp_path, quick polls, locks in tmp_path, and Moonraker's
    default socket in a short private folder (a Unix socket path must stay under 108 bytes)."""
    home = Path(tempfile.mkdtemp(prefix="home"))
    system = FakeSystem(tmp_path, home)
    monkeypatch.setattr(moonraker_client, "default_socket",
                        lambda: home / "printer_data" / "comms" / "moonraker.sock")
    monkeypatch.setattr(instances, "home", lambda: home)
    monkeypatch.delenv("MOONRAKER_API_KEY", raising=False)
    monkeypatch.setenv(fakesys.ENV, str(system.dir))
    monkeypatch.setenv("PATH", f"{system.bin}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(klipper, "running_as_root", lambda: fakesys.read_state()["root"])
    monkeypatch.setattr(klipper, "POLL_INTERVAL", 0.02)  # polls only: no time limit is shortened
    monkeypatch.setattr(holders, "POLL_INTERVAL", 0.02)
    monkeypatch.setattr(lock, "LOCK_DIR", tmp_path / "locks")
    yield system
    system.end_all()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def board() -> Iterator[FakeBoard]:
    fake = FakeBoard()
    yield fake
    fake.close()


@pytest.fixture
def moonraker(fake_system: FakeSystem) -> Iterator[FakeMoonraker]:
    """Moonraker on loopback and on its default socket, ~/printer_data/comms/moonraker.sock."""
    server = FakeMoonraker(moonraker_client.default_socket())
    yield server
    server.close()


@pytest.fixture
def kiauh_printer(fake_system: FakeSystem) -> Iterator[Callable[..., FakeMoonraker]]:
    """Make printer N as KIAUH installs it on a host with several: ~/printer_N_data/{config,comms,
    logs,systemd}, printer.cfg whose [mcu] serial is `mcu`, klipper-N.service running Klippy with
    `-a ~/printer_N_data/comms/klippy.sock` from KLIPPER_ARGS in systemd/klipper.env, and its own
    Moonraker (moonraker-N) on comms/moonraker.sock and on loopback, its moonraker.conf naming
    that port and klippy socket."""
    started: list[FakeMoonraker] = []

    def make(number: int, mcu: str | None = None, print_state: str = "standby", **moonraker: object) -> FakeMoonraker:
        data = fake_system.home / f"printer_{number}_data"
        for folder in ("config", "comms", "logs", "systemd"):
            (data / folder).mkdir(parents=True, exist_ok=True)
        (data / "config" / "printer.cfg").write_text(
            "[include mainsail.cfg]\n\n[mcu]\n" + (f"serial: {mcu}\n" if mcu else "canbus_uuid: 11aa22bb33cc\n")
            + "restart_method: command\n\n[printer]\nkinematics: corexy\n")
        (data / "config" / "mainsail.cfg").write_text("[virtual_sdcard]\npath: ~/printer_data/gcodes\n")
        klippy = [str(data / "config" / "printer.cfg"), "-I", str(data / "comms" / "klippy.serial"),
                  "-l", str(data / "logs" / "klippy.log"), "-a", str(data / "comms" / "klippy.sock")]
        env = data / "systemd" / "klipper.env"
        env.write_text(f'KLIPPER_ARGS="{fakesys.KLIPPY} {" ".join(klippy)}"\n')
        server = FakeMoonraker(data / "comms" / "moonraker.sock", name=f"moonraker-{number}")
        started.append(server)
        port = int(server.url.rsplit(":", 1)[1])
        (data / "config" / "moonraker.conf").write_text(
            f"[server]\nhost: 0.0.0.0\nport: {port}\nklippy_uds_address: {data / 'comms' / 'klippy.sock'}\n\n"
            "[authorization]\ntrusted_clients:\n    127.0.0.0/8\n")
        fake_system.configure(**{f"moonraker-{number}": {
            "instance": f"klipper-{number}", "print_state": print_state, "port": port,
            "uds": str(data / "comms" / "klippy.sock"), **moonraker}})
        fake_system.add_unit(f"moonraker-{number}.service")
        fake_system.add_unit(f"klipper-{number}.service", port=mcu if mcu and os.path.exists(mcu) else None,
                             klippy=klippy, environment_file=str(env), user="pi")
        return server

    yield make
    for server in started:
        server.close()


@pytest.fixture
def no_moonraker() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "klipper.bin"
    path.write_bytes(bytes(range(256)) * 40)  # 10 KiB of RISC-V-looking noise
    return path


@pytest.fixture
def holder() -> Iterator[Callable[[str], subprocess.Popen]]:
    """Start a process that holds a port open (a serial monitor); ended at teardown."""
    started: list[subprocess.Popen] = []

    def start(port: str, *options: str) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, str(FAKES / "holder.py"), port, *options])
        started.append(process)
        while not fakesys.holds(process.pid, port):
            time.sleep(0.01)
        return process

    yield start
    for process in started:
        process.terminate()
        process.wait()


class Run:
    """One flash in this process: its request, the status lines it said and what wchisp printed."""

    def __init__(self, request: flow.FlashRequest) -> None:
        self.request = request
        self.said: list[str] = []
        self.out = io.StringIO()

    def __call__(self) -> None:
        flow.flash(self.request, self.said.append, self.out)


@pytest.fixture
def flash(tmp_path: Path, image: Path, board: FakeBoard, no_moonraker: str) -> Callable[..., Run]:
    """Make a Run of the board's port, the image and no Moonraker unless the options say otherwise."""
    def make(**options: object) -> Run:
        values = {"firmware": image, "project_dir": tmp_path / "project", "device": board.path,
                  "moonraker_url": no_moonraker, **options}
        return Run(flow.FlashRequest(**values))
    return make
