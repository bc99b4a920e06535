"""A PlatformIO user's first hour, with PlatformIO installed the way VS Code's extension does it:
a bare `penv` holding only PlatformIO Core 6.1.19 in a fresh core folder. Then `make tool-scons`
(what `make build` runs) makes the tool-scons that Core pins, and that penv's Build, Simulate,
Upload (real avrdude to a simulated Uno running Debian's real Optiboot), Clean, Test and the
IDE's project metadata all work offline. Last, a new PlatformIO project outside this repository
installs the generator, adds a command of its own and still compiles its own src/.
"""
from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.host.client import BoardClient
from generator.paths import ROOT, SIM_BINARY, stamp_path
from generator.pioenv.envsketch import Stamp
from generator.sim.board import SimBoard
from testsupport import helpers

CORE_VERSION = "6.1.19"
BOOTLOADERS = Path("/usr/share/arduino/hardware/arduino/avr/bootloaders")
OPTIBOOT = BOOTLOADERS / "optiboot" / "optiboot_atmega328.hex"
STK500V2 = BOOTLOADERS / "stk500v2" / "stk500boot_v2_mega2560.hex"
# What a clone holds that `pip install` needs.
PACKAGE_PARTS = ("pyproject.toml", "README.md", "LICENSE", "generator", "definitions", "templates",
                 "extra_scripts", "sim")


@dataclass(frozen=True)
class Ide:
    """A core folder with VS Code's kind of penv in it."""

    core: Path

    @property
    def bin(self) -> Path:
        return self.core / "penv" / "bin"

    def environ(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "PLATFORMIO_PENV_DIR", "PLATFORMIO_BUILD_FLAGS")}
        return {**env, "PLATFORMIO_CORE_DIR": str(self.core), "PLATFORMIO_NO_ANSI": "true"}

    def pio(self, project: Path, *args: str, timeout: float = 180, offline: bool = False) -> helpers.PioResult:
        """That penv's `platformio <args>` in `project`; output merged. Offline: behind a dead
        proxy, so that a registry request fails at once."""
        start = time.perf_counter()
        env = {**self.environ(), **(helpers.DEAD_PROXY if offline else {})}
        proc = subprocess.run([str(self.bin / "platformio"), *args], cwd=project, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                              check=False)
        return helpers.PioResult(proc.returncode, proc.stdout, time.perf_counter() - start)


@pytest.fixture(scope="module")
def ide(tmp_path_factory: pytest.TempPathFactory) -> Ide:
    """The bare penv first (only PlatformIO in it), then the make step that serves it."""
    ide = Ide(tmp_path_factory.mktemp("ide") / "core")
    helpers.bare_penv(ide.core, CORE_VERSION)
    make = subprocess.run(["make", "--no-print-directory", "tool-scons"], cwd=ROOT, env=ide.environ(),
                          capture_output=True, text=True, check=False)
    assert make.returncode == 0, make.stdout + make.stderr
    assert f"(SCons 4.8.1) for PlatformIO {CORE_VERSION}: installed in {ide.core / 'packages'}" in make.stdout
    return ide


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh copy of the project, without the simulator built."""
    project = helpers.copy_project(tmp_path_factory.mktemp("first-hour") / "project")
    helpers.copy_tree(ROOT / "test", project / "test")
    shutil.rmtree(project / "sim" / "build", ignore_errors=True)
    return project


@pytest.fixture(scope="module")
def built(ide: Ide, project: Path) -> helpers.PioResult:
    """VS Code's Build button: `platformio run -e uno`."""
    return ide.pio(project, "run", "-e", "uno")


@pytest.fixture(scope="module")
def simulator() -> Path:
    """The repository's simulated board (make test builds it; built here if missing)."""
    subprocess.run(["make", "-s", "-C", str(ROOT / "sim")], check=True)
    return SIM_BINARY


@pytest.fixture
def bootloader_board(simulator: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A simulated board that holds only a bootloader; yields its serial port."""
    mcu, hex_file = request.param
    sim = subprocess.Popen([str(simulator), "--mcu", mcu, "--freq", "16000000", "--realtime",
                            "--bootloader", str(hex_file)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    try:
        line = sim.stdout.readline() if sim.stdout else ""
        assert line.startswith("serial: "), line
        yield line.split()[1]
    finally:
        sim.communicate("quit\n", timeout=10)  # after avrdude has exited (it spins if the pty dies)


def firmware_hash(project: Path, env: str) -> str:
    stamp = Stamp.load(stamp_path(helpers.build_dir(project, env)))
    assert stamp is not None
    return stamp.identity.hash


def test_build_with_core_6_1_from_a_fresh_core_folder(ide: Ide, built: helpers.PioResult) -> None:
    """The first Build works offline with the tool-scons that Core 6.1.19 pins (SCons 4.8.1),
    and the generator's modules are installed into the bare penv on the way."""
    assert built.returncode == 0, built.output[-3000:]
    assert "firmware: src/uno/uno.ino written" in built.output
    assert (ide.core / "packages" / "tool-scons@4.40801.0" / "SCons").is_dir()


def test_simulate_builds_the_simulator_and_ctrl_c_ends_it_with_status_0(ide: Ide, project: Path,
                                                                         built: helpers.PioResult) -> None:
    """`-t simulate` in a terminal, as VS Code's task runs it; Ctrl-C typed into that terminal."""
    assert not (project / "sim" / "build" / "avr_board").exists()
    master, slave = os.openpty()
    proc = subprocess.Popen([str(ide.bin / "platformio"), "run", "-e", "uno", "-t", "simulate"], cwd=project,
                            env=ide.environ(), stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    os.close(slave)
    output = read_until(master, proc, "Ctrl-C stops", timeout=120)
    os.write(master, b"\x03")
    output += read_until(master, proc, None, timeout=30)
    os.close(master)
    assert proc.wait(timeout=30) == 0, output[-3000:]
    assert "Building the simulated board" in output and "serial: /dev/pts/" in output
    assert "simulate: stopped" in output
    assert (project / "sim" / "build" / "avr_board").is_file()


def read_until(master: int, proc: subprocess.Popen[bytes], text: str | None, timeout: float) -> str:
    """Read a terminal until `text` shows (None: until the program ends)."""
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (text is None or text.encode() not in out):
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            out += chunk
        elif proc.poll() is not None and text is None:
            break
    return out.decode("utf-8", "replace")


@pytest.mark.parametrize("bootloader_board", [("atmega328p", OPTIBOOT)], indirect=True)
def test_upload_through_optiboot_then_the_board_runs_the_env(ide: Ide, project: Path, built: helpers.PioResult,
                                                             bootloader_board: str) -> None:
    """Real avrdude programs the simulated Uno through Debian's real Optiboot, over the pty;
    the board then answers INFO with the env's hash."""
    upload = ide.pio(project, "run", "-e", "uno", "-t", "upload", "--upload-port", bootloader_board)
    assert upload.returncode == 0, upload.output[-3000:]
    assert "bytes of flash verified" in upload.output
    with BoardClient(bootloader_board, 115200) as board:
        board.wait_ready(within=10)
        assert board.info().hash == firmware_hash(project, "uno")


@pytest.mark.parametrize("bootloader_board", [("atmega2560", STK500V2)], indirect=True)
def test_upload_to_a_mega_through_its_stk500v2_bootloader(ide: Ide, project: Path, built: helpers.PioResult,
                                                          bootloader_board: str) -> None:
    upload = ide.pio(project, "run", "-e", "mega", "-t", "upload", "--upload-port", bootloader_board)
    assert upload.returncode == 0, upload.output[-3000:]
    with BoardClient(bootloader_board, 115200) as board:
        time.sleep(3)  # the stk500v2 bootloader waits for a programmer after the port opened
        board.wait_ready(within=10)
        assert board.info().hash == firmware_hash(project, "mega")


def test_upload_without_a_board_fails_at_once_saying_why(ide: Ide, project: Path, built: helpers.PioResult) -> None:
    result = ide.pio(project, "run", "-e", "uno", "-t", "upload", "--upload-port", "/dev/ttyUSB-no-board")
    assert result.returncode != 0
    assert "error: the upload port /dev/ttyUSB-no-board does not exist: is the board connected?" in result.output
    assert "attempt 1 of" not in result.output  # refused before avrdude tried anything


def test_upload_where_no_bootloader_answers_says_what_that_means(ide: Ide, project: Path,
                                                                built: helpers.PioResult) -> None:
    """A port that exists but where nothing answers (a wrong port): 2 attempts, then a reason."""
    master, slave = os.openpty()
    port = os.ttyname(slave)
    try:
        result = ide.pio(project, "run", "-e", "uno", "-t", "upload", "--upload-port", port)
    finally:
        os.close(slave)
        os.close(master)
    assert result.returncode != 0
    assert "attempt 2 of 2: not in sync" in result.output
    assert f"error: no bootloader answered on {port}" in result.output
    assert "attempt 3" not in result.output  # 2 attempts, not avrdude's usual 10


def test_pio_test_runs_the_firmware_on_the_simulated_board(ide: Ide, project: Path, built: helpers.PioResult) -> None:
    """VS Code's Test button; a wrong expectation fails it."""
    result = ide.pio(project, "test", "-e", "uno")
    assert result.returncode == 0, result.output[-3000:]
    assert "3 test cases: 3 succeeded" in result.output
    cases = project / "test" / "test_protocol" / "cases.json"
    original = cases.read_text()
    cases.write_text(original.replace('"cmd": "PING"', '"cmd": "PONG"'))
    try:
        failed = ide.pio(project, "test", "-e", "uno", "--without-building")
    finally:
        cases.write_text(original)
    assert failed.returncode == 1 and "1 failed, 2 succeeded" in failed.output, failed.output[-3000:]


def test_project_metadata_without_env_needs_no_registry(ide: Ide, project: Path, built: helpers.PioResult) -> None:
    """What the IDE runs on opening the project: no env waits for a registry (behind a dead proxy,
    a registry request would fail the command at once)."""
    result = ide.pio(project, "project", "metadata", "--json-output", offline=True)
    assert result.returncode == 0, result.output[-3000:]
    assert {"uno", "nano", "mega"} <= set(json.loads(result.output.strip().splitlines()[-1]))


def test_clean_never_runs_the_generator(ide: Ide, project: Path, built: helpers.PioResult) -> None:
    """A broken selection (in platformio_override.ini, the place for local changes) stops a
    build, but not clean nor cleanall."""
    override = project / "platformio_override.ini"
    override.write_text("[env:uno]\ncustom_firmware_commands = no_such_command\n")
    try:
        for target in ("clean", "cleanall"):
            result = ide.pio(project, "run", "-e", "uno", "-t", target)
            assert result.returncode == 0, result.output[-3000:]
            assert "firmware:" not in result.output and "error" not in result.output
        assert not helpers.build_dir(project, "uno").exists()
        build = ide.pio(project, "run", "-e", "uno")
        assert build.returncode == 1 and "unknown command 'no_such_command'" in build.output
    finally:
        override.unlink()


USER_COMMAND = {
    "id": "blink_count",
    "description": "Answers twice the number it is given, computed by the project's own src/helper.cpp.",
    "args": [{"name": "n", "type": "integer", "minimum": 0, "maximum": 1000, "description": "A number."}],
    "code": {
        "globals": {"*": "@file:commands/src/user_blinks.h"},
        "functions": {"*": "@file:commands/src/blink_count.cpp"},
    },
}
USER_CODE = {
    "user_blinks.h": "long user_blinks(long n);\n",
    "blink_count.cpp": "static void cmd_blink_count(const long* args) {\n  fw_reply_begin();\n"
                       "  fw_reply_int(F(\"blinks\"), user_blinks(args[0]));\n  fw_reply_end();\n}\n",
}


def test_the_generator_in_a_users_own_project(ide: Ide, project: Path, simulator: Path,
                                              tmp_path: Path) -> None:
    """pip install from a clone into PlatformIO's Python, `install-scripts`, a command of the
    user's own in my_definitions/ that calls the user's own src/helper.cpp: it builds and runs."""
    clone = tmp_path / "clone"
    clone.mkdir()
    for part in PACKAGE_PARTS:
        helpers.copy_tree(ROOT / part, clone / part)
    shutil.rmtree(clone / "sim" / "build", ignore_errors=True)
    pip = subprocess.run([str(ide.bin / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                          str(clone)], capture_output=True, text=True, check=False)
    assert pip.returncode == 0, pip.stderr[-3000:]

    user = tmp_path / "my-project"
    (user / "src").mkdir(parents=True)
    (user / "src" / "helper.cpp").write_text("long user_blinks(long n) { return n * 2; }\n")
    (user / "my_definitions" / "commands" / "src").mkdir(parents=True)
    command = user / "my_definitions" / "commands" / "blink_count.json"
    command.write_text(json.dumps(USER_COMMAND))
    for name, code in USER_CODE.items():
        (user / "my_definitions" / "commands" / "src" / name).write_text(code)
    (user / "platformio.ini").write_text(
        "[env:uno]\n"
        f"platform = symlink://{project / 'platforms' / 'avr-debian'}\n"
        "board = uno\nframework = arduino\n"
        "extra_scripts =\n    pre:extra_scripts/generate_firmware.py\n    post:extra_scripts/board_targets.py\n"
        "custom_firmware_definitions = my_definitions/\n"
        "custom_firmware_transport = serial_standard\ncustom_firmware_baud_rate = 115200\n"
        "custom_firmware_commands = gpio_read, blink_count\n")
    install = subprocess.run([str(ide.bin / "python"), "-m", "generator", "install-scripts", str(user)],
                             capture_output=True, text=True, env=ide.environ(), cwd=tmp_path, check=False)
    assert install.returncode == 0, install.stderr

    result = ide.pio(user, "run")
    assert result.returncode == 0, result.output[-3000:]
    assert (helpers.build_dir(user, "uno") / "src" / "helper.cpp.o").is_file()
    assert (user / "generated" / "uno" / "uno.ino").is_file()
    with SimBoard(helpers.build_dir(user, "uno") / "firmware.elf", "atmega328p", 16_000_000, binary=simulator) as sim, \
            BoardClient(sim.serial_port, 115200) as board:
        board.wait_ready()
        assert board.request("BLINK_COUNT 21") == {"ok": 1, "cmd": "BLINK_COUNT", "blinks": 42}

    command.write_text(json.dumps({**USER_COMMAND, "args": [{"name": "n", "type": "integer"}]}))
    broken = ide.pio(user, "run")
    assert broken.returncode == 1
    assert ("error: my_definitions/commands/blink_count.json: does not match schemas/command.schema.json"
            in broken.output)
