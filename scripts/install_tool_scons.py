"""Install PlatformIO's core package tool-scons for every PlatformIO Core on this machine, made
from PyPI's SCons, so that `pio run` never needs PlatformIO's registry.

Each Core pins its own SCons release (6.1.15: tool-scons ~4.40700.0 = SCons 4.7.0; 6.1.16-6.1.19:
~4.40801.0 = 4.8.1; 6.2.0: ~4.41101.0 = 4.11.1). The script asks each Core's own Python for its
requirement and its core folder instead of guessing, downloads that SCons wheel from PyPI once
(into .pio/scons-wheels/), and writes `<core_dir>/packages/tool-scons@<version>`, plus
`packages/tool-scons` when that is missing: PlatformIO takes a second version of a core package
from such a folder, so Cores of several versions can share one core folder.

Cores looked for: this project's .venv, $PLATFORMIO_PENV_DIR, the IDE's penv in
$PLATFORMIO_CORE_DIR (else ~/.platformio), `pio`/`platformio` on PATH, and any `--pio PATH` given.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
WHEELS = PROJECT / ".pio" / "scons-wheels"
LAUNCHER = '''"""tool-scons launcher written by scripts/install_tool_scons.py."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import SCons.Script  # noqa: E402 - from the wheel put on sys.path above

SCons.Script.main()
'''
# Asked of each Core's own Python: its tool-scons requirement and its core folder.
QUESTION = ("import json, platformio; from platformio.dependencies import get_core_dependencies as g; "
            "from platformio.project.config import ProjectConfig as C; "
            "print(json.dumps([platformio.__version__, g()['tool-scons'], "
            "C.get_instance().get('platformio', 'core_dir')]))")


@dataclass(frozen=True)
class Core:
    """One PlatformIO Core: where it is and what it wants."""

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


def candidates(extra: list[str]) -> list[Path]:
    """The `pio` executables to ask, in order, without duplicates."""
    core_dir = Path(os.environ.get("PLATFORMIO_CORE_DIR") or Path.home() / ".platformio")
    bins = [PROJECT / ".venv" / "bin" / "pio"]
    if os.environ.get("PLATFORMIO_PENV_DIR"):
        bins.append(Path(os.environ["PLATFORMIO_PENV_DIR"]) / "bin" / "platformio")
    bins.append(core_dir / "penv" / "bin" / "platformio")
    bins += [Path(found) for name in ("pio", "platformio") if (found := shutil.which(name))]
    bins += [Path(p) for p in extra]
    seen: set[Path] = set()
    out = []
    for pio in bins:
        real = pio.resolve()
        if pio.is_file() and real not in seen:
            seen.add(real)
            out.append(pio)
    return out


def python_of(pio: Path) -> Path:
    """The Python running a `pio` script: its shebang (venvs), else the one next to it."""
    first = pio.read_bytes()[:200].split(b"\n", 1)[0]
    if first.startswith(b"#!") and b"python" in first:
        return Path(first[2:].decode().strip().split()[0])
    return pio.with_name("python")


def ask(pio: Path) -> Core | None:
    """What this Core wants, or None (with a note) when it cannot say (older than 6.1.15)."""
    python = python_of(pio)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([str(python), "-c", QUESTION], capture_output=True, text=True, env=env,
                            cwd=PROJECT, check=False)
    if result.returncode != 0:
        print(f"tool-scons: skipping {pio}: its Python cannot tell its requirement "
              f"({(result.stderr.strip().splitlines() or ['no output'])[-1]})")
        return None
    version, requirement, core_dir = json.loads(result.stdout.strip().splitlines()[-1])
    return Core(python, version, requirement, Path(core_dir))


def wheel(scons_version: str) -> Path:
    """SCons' wheel from PyPI, downloaded once into WHEELS."""
    found = [p for p in WHEELS.glob("*.whl") if p.name.lower().startswith(f"scons-{scons_version}-")]
    if found:
        return found[0]
    WHEELS.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
               "--only-binary", ":all:", "-d", str(WHEELS), f"scons=={scons_version}"]
    if subprocess.run(command, check=False).returncode != 0:
        sys.exit(f"error: cannot download SCons {scons_version} from PyPI\n  hint: run: {' '.join(command)}")
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


def serve(core: Core) -> None:
    """Make sure this Core finds its tool-scons in its core folder."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pio", action="append", default=[], metavar="PATH",
                        help="also serve this `pio`/`platformio` executable")
    args = parser.parse_args()
    cores = [core for pio in candidates(args.pio) if (core := ask(pio))]
    if not cores:
        print("tool-scons: no PlatformIO Core found (looked in .venv, the IDE's penv and PATH)")
    for core in cores:
        serve(core)


if __name__ == "__main__":
    main()
