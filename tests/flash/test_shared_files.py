"""Issue 17, case 2: the lock and journal files are shared by every user of the host. A flash as
root (sudo) killed outright, then `--restore` and a flash as another user, run for real as that
user (`nobody`, through setpriv); and files another user left with other modes end in a clear
error, never a traceback."""
from __future__ import annotations

import fcntl
import os
import shutil
import stat
import subprocess
import tempfile
import termios
from collections.abc import Iterator
from pathlib import Path

import pytest

from testsupport.fakes import fakesys
from testsupport.fakes.board import FakeBoard
from testsupport.fakes.fixtures import *  # noqa: F403 - the fixtures
from testsupport.fakes.fixtures import FakeSystem
from testsupport.fakes.flashproc import Other, kill_while_writing, start_flash
from testsupport.fakes.moonraker import FakeMoonraker

PYTHON = "/usr/bin/python3"  # one that `nobody` may run (root's own may live in a private /root)
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv") or not os.path.exists(PYTHON),
                                reason="needs root, setpriv and /usr/bin/python3 to run as another user")


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """A folder every user may use (pytest's own is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="shared"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def nobody(tmp_path: Path, fake_system: FakeSystem, board: FakeBoard, image: Path) -> Other:
    fake_system.share_with(PYTHON)
    os.chmod(board.path, 0o666)  # as udev's dialout group would let the user open it
    image.chmod(0o644)
    home = tmp_path / "nobody-home"
    home.mkdir(mode=0o777)
    return Other(65534, 65534, home, PYTHON)


def run(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def test_2_after_a_killed_root_flash_another_user_restores_and_flashes(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, image: Path, tmp_path: Path, nobody: Other,
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    fake_system.configure(wchisp={"hang": True})
    shared_tmp = tmp_path / "tmp"
    shared_tmp.mkdir(mode=0o777)
    shared_tmp.chmod(0o1777)
    args = ["--firmware", str(image), "--device", board.path, "--moonraker", moonraker.url]
    old_umask = os.umask(0o022)  # sudo's usual umask: files 0644 unless the code fixes them
    try:
        as_root = start_flash(tmp_path / "root-project", *args, tmpdir=shared_tmp)
    finally:
        os.umask(old_umask)
    kill_while_writing(as_root)
    assert fake_system.unit("klipper.service")["state"] == "inactive"
    for pid in fakesys.other_holders(board.path):
        fakesys.end_process(pid)  # the orphaned wchisp, ended (as a re-plug or `kill` would)
    fd = os.open(board.path, os.O_RDWR | os.O_NOCTTY)  # a pty keeps its wchisp's TIOCEXCL; a real
    fcntl.ioctl(fd, termios.TIOCNXCL)  # port's last close clears it
    os.close(fd)

    code, out, err = run(start_flash(tmp_path / "user-project", "--restore", "--moonraker", moonraker.url,
                                     tmpdir=shared_tmp, user=nobody))
    assert (code, "Traceback" in err, "internal error" in err) == (0, False, False), err
    assert "flash: klipper.service is running again" in out
    assert fake_system.unit("klipper.service")["state"] == "active"

    fake_system.configure(wchisp={})
    (tmp_path / "user-project").chmod(0o777)
    code, out, err = run(start_flash(tmp_path / "user-project", *args, tmpdir=shared_tmp, user=nobody))
    assert (code, "Traceback" in err, "internal error" in err) == (0, False, False), err
    assert "Verify OK" in out and "flash: klipper.service is running again" in out
    assert fake_system.unit("klipper.service")["state"] == "active"
    files = sorted((shared_tmp / "generator-flash").iterdir())  # root's, shared whatever the umask
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o666 and f.stat().st_uid == 0 for f in files)
    assert stat.S_IMODE((shared_tmp / "generator-flash").stat().st_mode) == 0o1777


@pytest.mark.parametrize("mode", [0o644, 0o600])
def test_2_a_file_another_user_left_unshared_is_a_clear_error(
    fake_system: FakeSystem, moonraker: FakeMoonraker, board: FakeBoard, image: Path, tmp_path: Path, nobody: Other,
    mode: int,
) -> None:
    fake_system.add_unit("klipper.service", port=board.path)
    shared_tmp = tmp_path / "tmp"
    (shared_tmp / "generator-flash").mkdir(parents=True)
    shared_tmp.chmod(0o1777)
    (shared_tmp / "generator-flash").chmod(0o1777)
    for suffix in (".lock", ".journal"):  # as an older version, or a root shell with umask 077, left them
        left = shared_tmp / "generator-flash" / (board.path.strip("/").replace("/", "_") + suffix)
        left.write_text("")
        left.chmod(mode)
    code, out, err = run(start_flash(tmp_path / "user-project", "--firmware", str(image), "--device", board.path,
                                     "--moonraker", moonraker.url, tmpdir=shared_tmp, user=nobody))
    assert code == 1 and "Traceback" not in err and "internal error" not in err, err
    assert "it belongs to root" in err or "belongs to root" in err
    assert fake_system.unit("klipper.service")["state"] == "active"  # refused before Klipper was stopped
