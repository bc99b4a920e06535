"""PlatformIO Cores on this machine: each one's tool-scons made from PyPI's SCons (so that `pio run`
never needs PlatformIO's registry), and a core folder of its own for a virtual environment's Core.

Each Core pins its own SCons release (6.1.15: tool-scons ~4.40700.0 = SCons 4.7.0; 6.1.16-6.1.19:
~4.40801.0 = 4.8.1; 6.2.0: ~4.41101.0 = 4.11.1). Each Core's own Python is asked for its requirement
and its core folder (never guessed, and PlatformIO is never imported here); that SCons wheel is
downloaded from PyPI once (into the user cache) and written into the core folder as
`packages/tool-scons`, or as `packages/tool-scons@<version>` when another Core's is already there.

Two Cores of different versions must not share a core folder: its `appstate.json` remembers the
last version that ran, so a newer Core that finds an older one there runs PlatformIO's upgrade path
(`Please wait while upgrading PlatformIO...`, a registry download: offline, a minute's wait and
then `HTTPClientError`), and an older one warns `Obsolete PIO Core`. `own_core_dir` therefore gives
a virtual environment's Core (the checkout's `.venv`) a core folder of its own,
`<venv>/platformio-core`, through a `.pth` file that every Python of that venv reads at start-up; an
IDE's Core keeps `~/.platformio`. A PLATFORMIO_CORE_DIR the caller set is always kept.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from generator.errors import FirmwareError
from generator.files import write_if_changed
from generator.paths import user_cache

LAUNCHER = '''"""tool-scons launcher written by `python -m generator tool-scons`."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import SCons.Script  # noqa: E402 - from the wheel put on sys.path above

SCons.Script.main()
'''
# Asked of each Core's own Python: its version, its tool-scons requirement and its core folder.
QUESTION = ("import json, platformio; from platformio.dependencies import get_core_dependencies as g; "
            "from platformio.project.config import ProjectConfig as C; "
            "print(json.dumps([platformio.__version__, g()['tool-scons'], "
            "C.get_instance().get('platformio', 'core_dir')]))")
# What marks a PLATFORMIO_CORE_DIR as set by a venv's .pth rather than by the user.
OWN_CORE_MARK = "FIRMWARE_OWN_CORE_DIR"
PTH_NAME = "firmware_generator_core_dir.pth"
# One line, run by Python's `site` at every start of the venv's Python (`pio` included): unless
# the caller chose a core folder, use the venv's own; a pinned Core never checks for upgrades.
PTH_LINE = ('import os, sys; d = os.path.join(os.path.realpath(sys.prefix), "platformio-core"); '
            f'os.environ.get("PLATFORMIO_CORE_DIR") or os.environ.update(PLATFORMIO_CORE_DIR=d, {OWN_CORE_MARK}=d); '
            'os.environ.setdefault("PLATFORMIO_DISABLE_UPGRADE_CHECK", "true")\n')


@dataclass(frozen=True)
class Core:
    """One PlatformIO Core: its Python, its version, what it wants and where it keeps packages."""

    python: Path
    version: str
    requirement: str      # such as "~4.40801.0"
    core_dir: Path

    @property
    def package_version(self) -> str:
        return self.requirement.lstrip("~=^<>! ")

    @property
    def scons_version(self) -> str:
        """tool-scons 4.XYYZZ.0 is SCons X.YY.ZZ (4.40801.0 is 4.8.1, 4.41101.0 is 4.11.1)."""
        packed = self.package_version.split(".")[1]
        return f"{packed[0]}.{int(packed[1:3])}.{int(packed[3:5])}"


def user_environ(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment as the user set it: without PYTHONPATH, nor the core folder a venv's .pth
    chose for its own Core (so another Core asked from here reports its own core folder)."""
    env = {k: v for k, v in (os.environ if environ is None else environ).items() if k != "PYTHONPATH"}
    if env.get(OWN_CORE_MARK) and env.get("PLATFORMIO_CORE_DIR") == env[OWN_CORE_MARK]:
        del env["PLATFORMIO_CORE_DIR"]
    env.pop(OWN_CORE_MARK, None)
    return env


def python_of(pio: Path) -> Path:
    """The Python running a `pio` script: its shebang (venvs), else the one next to it."""
    first = pio.read_bytes()[:200].split(b"\n", 1)[0]
    if first.startswith(b"#!") and b"python" in first:
        return Path(first[2:].decode().strip().split()[0])
    return pio.with_name("python")


def candidates(extra: Iterable[str] = ()) -> list[Path]:
    """The Pythons whose Core to serve, in order, each once: this one, $PLATFORMIO_PENV_DIR's, the
    IDE's penv in the user's core folder, `pio`/`platformio` on PATH, and the `extra` executables."""
    env = user_environ()
    core_dir = Path(env.get("PLATFORMIO_CORE_DIR") or Path.home() / ".platformio")
    pios = []
    if env.get("PLATFORMIO_PENV_DIR"):
        pios.append(Path(env["PLATFORMIO_PENV_DIR"]) / "bin" / "platformio")
    pios.append(core_dir / "penv" / "bin" / "platformio")
    pios += [Path(found) for name in ("pio", "platformio") if (found := shutil.which(name, path=env.get("PATH")))]
    pios += [Path(p) for p in extra]
    pythons = [Path(sys.executable)] + [python_of(pio) for pio in pios if pio.is_file()]
    seen: set[Path] = set()
    out = []
    for python in pythons:
        where = python.parent.resolve()  # one environment per bin folder, however it is reached
        if python.exists() and where not in seen:
            seen.add(where)
            out.append(python)
    return out


def ask(python: Path) -> Core | None:
    """What this Python's Core wants, or None when it has no Core (or one older than 6.1.15)."""
    result = subprocess.run([str(python), "-c", QUESTION], capture_output=True, text=True, env=user_environ(),
                            check=False)
    if result.returncode != 0:
        return None
    version, requirement, core_dir = json.loads(result.stdout.strip().splitlines()[-1])
    return Core(python, version, requirement, Path(core_dir))


def wheel(scons_version: str) -> Path:
    """SCons' wheel from PyPI, downloaded once into the user cache."""
    wheels = user_cache() / "scons-wheels"
    found = [p for p in wheels.glob("*.whl") if p.name.lower().startswith(f"scons-{scons_version}-")]
    if found:
        return found[0]
    wheels.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
               "--only-binary", ":all:", "-d", str(wheels), f"scons=={scons_version}"]
    print(f"tool-scons: downloading SCons {scons_version} from PyPI into {wheels}", flush=True)
    if subprocess.run(command, check=False).returncode != 0:
        raise FirmwareError(f"cannot download SCons {scons_version} from PyPI", f"run: {' '.join(command)}")
    return wheel(scons_version)


def installed(dest: Path, version: str) -> bool:
    """True when dest already holds tool-scons at `version`."""
    try:
        manifest = json.loads((dest / "package.json").read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("version") == version and (dest / "SCons").is_dir()


def install(dest: Path, version: str, scons_version: str) -> None:
    """Unpack SCons and write the manifests into a fresh folder, then move it into place."""
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with zipfile.ZipFile(wheel(scons_version)) as whl:
        whl.extractall(tmp, [n for n in whl.namelist() if n.startswith("SCons/")])
    (tmp / "scons.py").write_text(LAUNCHER)
    (tmp / "package.json").write_text(json.dumps(
        {"name": "tool-scons", "version": version, "description": f"SCons {scons_version} from PyPI"},
        indent=2) + "\n")
    (tmp / ".piopm").write_text(json.dumps({
        "type": "tool", "name": "tool-scons", "version": version,
        "spec": {"owner": "platformio", "id": None, "name": "tool-scons", "requirements": None, "uri": None}}))
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)


def serve(core: Core) -> Path:
    """Make sure this Core finds its tool-scons in its core folder; return that folder."""
    packages = core.core_dir / "packages"
    version, scons = core.package_version, core.scons_version
    plain = packages / "tool-scons"
    # the plain folder when it is free or already this version, else a versioned one beside it
    free = not (plain / "package.json").is_file() or installed(plain, version)
    dest = plain if free else packages / f"tool-scons@{version}"
    if installed(dest, version):
        print(f"tool-scons {version} (SCons {scons}) for PlatformIO {core.version}: already in {dest}")
    else:
        install(dest, version, scons)
        print(f"tool-scons {version} (SCons {scons}) for PlatformIO {core.version}: installed in {dest}")
    return dest


def serve_all(extra: Iterable[str] = ()) -> list[Core]:
    """Serve every Core found (see `candidates`); return them."""
    cores = [core for python in candidates(extra) if (core := ask(python))]
    if not cores:
        print("tool-scons: no PlatformIO Core found (looked at this Python, the IDE's penv and PATH)")
    for core in cores:
        serve(core)
    repair_last_version(cores)
    return cores


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def repair_last_version(cores: list[Core]) -> None:
    """Undo what a shared core folder left behind: where a newer Core found here last ran in
    another Core's folder (before it had its own), that Core would warn "Obsolete PIO Core" on
    every command. Its `last_version` is set back to its own version; nothing else changes."""
    for core in cores:
        state_path = core.core_dir / "appstate.json"
        try:
            state = json.loads(state_path.read_text())
        except (OSError, ValueError):
            continue
        last = str(state.get("last_version", ""))
        newer_elsewhere = any(other.version == last and other.core_dir != core.core_dir for other in cores)
        if newer_elsewhere and _version(last) > _version(core.version):
            state["last_version"] = core.version
            write_if_changed(state_path, json.dumps(state))
            print(f"{state_path}: PlatformIO {last} ran there last, before it had a core folder of its own; "
                  f"set back to {core.version}, the Core that lives there (no more 'Obsolete PIO Core')")


def serve_this_python() -> Core | None:
    """Serve the Core of the Python running this, if it has one (else say how to get one)."""
    core = ask(Path(sys.executable))
    if core is None:
        print(f"tool-scons: PlatformIO is not installed in this Python ({sys.executable}); run this "
              "command with PlatformIO's Python (VS Code's: ~/.platformio/penv/bin/python)")
        return None
    serve(core)
    return core


def own_core_dir() -> Path:
    """Give the virtual environment running this its own PlatformIO core folder (see the module
    docstring); return that folder's path."""
    if sys.prefix == sys.base_prefix:
        raise FirmwareError(f"{sys.executable} is not a virtual environment's Python",
                            "run it with the Python of the venv whose PlatformIO should get its own core folder")
    site = Path(sysconfig.get_paths()["purelib"])
    pth = site / PTH_NAME
    if not pth.is_file() or pth.read_text() != PTH_LINE:
        pth.write_text(PTH_LINE)
    folder = Path(os.path.realpath(sys.prefix)) / "platformio-core"
    print(f"PlatformIO core folder of {sys.prefix}: {folder} (unless PLATFORMIO_CORE_DIR is set)")
    return folder
