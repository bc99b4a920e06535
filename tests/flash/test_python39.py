"""The flash command runs on Klipper hosts with Python 3.9 (Raspberry Pi OS bullseye). No 3.9
interpreter can be installed here (Debian 12 has 3.11, PyPI has none), so: everything
`python -m generator.flash` imports is in the Makefile's FLASH_PY39 list, and vermin finds nothing
in that list that needs more than 3.9."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

from generator.paths import ROOT

CLOSURE = """
import json, sys
before = set(sys.modules)
import generator.flash.__main__
print(json.dumps(sorted(getattr(sys.modules[m], "__file__", None) or m for m in set(sys.modules) - before)))
"""


def flash_py39() -> list[Path]:
    """The Makefile's FLASH_PY39, files and folders as listed."""
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    listed = re.search(r"^FLASH_PY39 := (.*)$", makefile, re.MULTILINE)
    assert listed, "the Makefile lists the flash side's files in FLASH_PY39"
    return [ROOT / word for word in listed.group(1).split()]


def test_the_flash_command_imports_only_what_is_checked_for_3_9() -> None:
    done = subprocess.run([sys.executable, "-c", CLOSURE], capture_output=True, text=True, cwd=ROOT, check=True)
    loaded = [Path(name) for name in json.loads(done.stdout) if name.endswith(".py")]
    package = ROOT / "generator"
    ours = [path for path in loaded if package in path.parents]
    checked = flash_py39()
    assert ours and all(path in checked or any(folder in path.parents for folder in checked) for path in ours), \
        sorted(set(ours) - set(checked))
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    others = {path for path in loaded if package not in path.parents and stdlib not in path.parents
              and "serial" not in path.parts}
    assert not others  # only the standard library and pyserial besides the package


def test_vermin_finds_nothing_newer_than_3_9() -> None:
    vermin = Path(sys.executable).with_name("vermin")
    done = subprocess.run([str(vermin), "-t=3.9-", "--no-tips", "--violations", *map(str, flash_py39())],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_python_m_generator_flash_runs() -> None:
    done = subprocess.run([sys.executable, "-m", "generator.flash", "--help"], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0 and done.stdout.startswith("usage: python -m generator.flash")
    assert "--restore" in done.stdout and "--moonraker-socket" in done.stdout
