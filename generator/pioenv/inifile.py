"""`platformio.ini` read without PlatformIO, as its ProjectConfig reads it, for scripts and CI
(`python -m generator generate --env NAME`).

What is reproduced (PlatformIO 6.2 `platformio/project/config.py`): configparser with `;`/`#`
inline comments; an `[env:NAME]` option found in the env, then in the sections it `extends`, then
in `[env]`; `${section.option}`, `${env.option}`, `${this.option}`, `${this.__env__}` and
`${sysenv.NAME}` (empty when unset) expanded recursively; `${NAME}` without a section left as
it is (a SCons variable); `[platformio] extra_configs` (globs relative to the file, matches read
in order after it, their options overriding it, patterns matching nothing skipped). Values come
back as text, as PlatformIO gives custom_ options. Not reproduced: PlatformIO's typed,
multi-value options (the generator reads only custom_ options and `board`).
"""
from __future__ import annotations

import configparser
import os
import re
from pathlib import Path

from generator.errors import FirmwareError
from generator.paths import extra_configs
from generator.pioenv.options import EnvOptions
from generator.values import PREFIX

SYSENV = re.compile(r"\$\{sysenv\.([A-Za-z_][A-Za-z0-9_]*)\}")
VARIABLE = re.compile(r"\$\{(?:([^\.\}\()]+)\.)?([^\}]+)\}")  # PlatformIO's VARTPL_RE
DEPTH = 50


class ProjectIni:
    """One platformio.ini, with PlatformIO's lookup and interpolation rules."""

    def __init__(self, path: Path, leave_out: tuple[Path, ...] = ()) -> None:
        """`leave_out`: extra config files not to read (what platformio.ini gives without them)."""
        self.path = path
        self.parser = configparser.ConfigParser(inline_comment_prefixes=("#", ";"))
        self._read(path)
        self.extra = extra_configs(path, self.parser.get("platformio", "extra_configs", fallback=""))
        for extra in self.extra:
            if extra not in leave_out:
                self._read(extra)

    def _read(self, path: Path) -> None:
        try:
            with path.open(encoding="utf-8") as handle:
                self.parser.read_file(handle)
        except OSError as exc:
            raise FirmwareError(f"{path}: cannot read: {exc.strerror}",
                                "run in the project folder or give --project-dir") from exc
        except configparser.Error as exc:
            raise FirmwareError(f"{path}: {exc}") from exc

    def envs(self) -> list[str]:
        return [s[4:] for s in self.parser.sections() if s.startswith("env:")]

    def _chain(self, section: str) -> list[str]:
        """Sections an option of `section` is looked up in, first match wins (walk_options)."""
        queue = ["env", section] if section.startswith("env:") else [section]
        done: list[str] = []
        while queue:
            current = queue.pop()
            done.append(current)
            if self.parser.has_section(current) and self.parser.has_option(current, "extends"):
                queue.extend(v.strip() for v in re.split(r",|\n", self.parser.get(current, "extends"))
                             if v.strip())
        return [s for s in done if self.parser.has_section(s)]

    def options(self, section: str) -> list[str]:
        out: list[str] = []
        for current in self._chain(section):
            out += [o for o in self.parser.options(current) if o not in out]
        return out

    def get(self, section: str, option: str, depth: int = 0) -> str | None:
        """The expanded value, or None when no section of the chain has it."""
        if depth > DEPTH:
            raise FirmwareError(f"{self.path}: ${{...}} in [{section}] {option} refers to itself")
        for current in self._chain(section):
            if self.parser.has_option(current, option):
                raw = self.parser.get(current, option, raw=True)
                return VARIABLE.sub(lambda m: self._expand(section, option, m, depth), raw)
        return None

    def sysenv_names(self, section: str, option: str) -> list[str]:
        """The environment variables `option`'s raw text in `section` reads with ${sysenv.NAME}."""
        if not self.parser.has_option(section, option):
            return []
        return SYSENV.findall(self.parser.get(section, option, raw=True))

    def _expand(self, parent: str, parent_option: str, match: re.Match[str], depth: int) -> str:
        section, option = match.group(1), match.group(2)
        if section is None:
            return match.group(0)
        if section == "sysenv":
            return os.environ.get(option, "")
        if section == "this":
            if option == "__env__":
                if not parent.startswith("env:"):
                    raise FirmwareError(f"{self.path}: ${{this.__env__}} in [{parent}] {parent_option} "
                                        "is not inside an [env:NAME] section")
                return parent[4:]
            section = parent
        value = self.get(section, option, depth + 1)
        if value is None:
            raise FirmwareError(f"{self.path}: [{parent}] {parent_option} refers to ${{{section}.{option}}}, "
                                f"which is not set")
        return value

    def env(self, name: str) -> EnvOptions:
        """The options of `[env:NAME]` with everything it inherits, expanded."""
        if name not in self.envs():
            hint = f"envs: {', '.join(self.envs()) or 'none'}"
            if (self.path.parent / "hardware.ini.example").is_file():
                hint += "; the hardware envs are enabled by: cp hardware.ini.example hardware.ini"
            raise FirmwareError(f"{self.path}: no [env:{name}]", hint)
        section = f"env:{name}"
        return EnvOptions(name, {o: self.get(section, o) for o in self.options(section)})


def env_vars(options: EnvOptions) -> dict[str, list[str]]:
    """The environment variables each custom_firmware_* option of `options` reads (${sysenv.NAME}),
    from the raw text of its platformio.ini and extra_configs; {} when it cannot be read."""
    if options.config_path is None:
        return {}
    try:
        ini = ProjectIni(options.config_path)
    except FirmwareError:
        return {}
    out: dict[str, list[str]] = {}
    for option, section in options.sections.items():
        names = ini.sysenv_names(section, option) if option.startswith(PREFIX) else []
        if names:
            out[option] = names
    return out
