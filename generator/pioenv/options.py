"""One PlatformIO env's options, as the glue reads them from `platformio.ini`: the one reader
every extra script uses (they hand over `ProjectConfig.items(env=NAME, as_dict=True)`)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.paths import DEFINITIONS
from generator.values import PREFIX, parse_bool

# A project's own definitions folders, layered over the shipped ones; not part of the selection.
USER_DEFINITIONS = f"{PREFIX}definitions"


@dataclass(frozen=True)
class EnvOptions:
    """The options of `[env:NAME]` (with what it inherits from `[env]`), values as PlatformIO
    parsed them: text, or a list for multi-line options it knows."""

    name: str
    values: Mapping[str, Any] = field(default_factory=dict)
    sections: Mapping[str, str] = field(default_factory=dict)  # option -> the section that sets it
    config_path: Path | None = None                              # platformio.ini (inifile.env_vars reads it raw)

    @classmethod
    def from_project_config(cls, name: str, config: Any, config_path: str) -> EnvOptions:
        """From PlatformIO's ProjectConfig (what `env.GetProjectConfig()` gives the extra scripts;
        used through its items() and walk_options() only, so nothing imports PlatformIO)."""
        return cls(name, config.items(env=name, as_dict=True),
                   option_sections(config.walk_options(f"env:{name}")), Path(config_path))

    @property
    def section(self) -> str:
        return f"[env:{self.name}]"

    def text(self, option: str, default: str = "") -> str:
        """An option as stripped text; `default` when it is missing or empty."""
        value = self.values.get(option)
        if isinstance(value, (list, tuple)):
            value = "\n".join(str(v) for v in value)
        text = "" if value is None else str(value).strip()
        return text or default

    def flag(self, option: str, default: bool = False) -> bool:
        """A yes/no option; `default` when it is missing or empty."""
        text = self.text(option)
        return parse_bool(text, option, f"in {self.section}") if text else default

    def firmware(self) -> dict[str, str]:
        """The custom_firmware_* options: the firmware selection."""
        return {k: self.text(k) for k in sorted(self.values) if k.startswith(PREFIX) and k != USER_DEFINITIONS}

    def definitions(self, project_dir: Path) -> tuple[Path, ...]:
        """The definitions folders, user first: custom_firmware_definitions (relative to the
        project), then the shipped ones."""
        names = [n.strip() for n in self.text(USER_DEFINITIONS).replace(",", "\n").splitlines() if n.strip()]
        return (*(project_dir / name for name in names), DEFINITIONS)

    def inherited(self) -> list[str]:
        """The custom_firmware_* options set in a shared section ([env], an extended one), not
        in this env's own: a default that other envs may use."""
        return sorted(k for k, section in self.sections.items()
                      if k.startswith(PREFIX) and section != f"env:{self.name}")


def option_sections(walk: Iterable[tuple[str, str]]) -> dict[str, str]:
    """option -> the section that sets it, from PlatformIO's walk_options() (own section first,
    then extended ones, then [env]): the first one wins, as in PlatformIO."""
    out: dict[str, str] = {}
    for section, option in walk:
        out.setdefault(option, section)
    return out


@dataclass(frozen=True)
class Hardware:
    """The env's real hardware as PlatformIO knows it, to check the selection against."""

    board: str           # the env's `board`
    mcu: str = ""        # its build.mcu
    platform: str = ""   # $PIOPLATFORM
