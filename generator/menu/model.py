"""What `menuconfig` shows and changes for one env: the transports, devices, commands and settings
that fit its board, read from the definitions, and the current choice, checked by the
generator itself (a full generation, as `pio run` does) and saved to platformio_override.ini.

No terminal here: `tui.py` draws this model and feeds it key presses.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.codegen.catalog import usage
from generator.codegen.definitions import Definitions
from generator.codegen.resolve import declared_settings, device_commands, find_board, selected_commands, supports
from generator.codegen.selection import Selection
from generator.codegen.settings import coerce
from generator.codegen.sketch import Sketch, generate
from generator.errors import FirmwareError
from generator.paths import TEMPLATES
from generator.pioenv.inifile import ProjectIni
from generator.pioenv.override import override_path, update_env
from generator.values import PREFIX, split_ids


@dataclass(frozen=True)
class Item:
    """One row of a list: an id, a one-line summary and the longer text shown below the list."""

    id: str
    summary: str
    details: str


@dataclass(frozen=True)
class Setting:
    """A setting of the chosen transport or commands: its declaration and where it comes from."""

    name: str
    decl: dict[str, Any]
    origin: str

    @property
    def option(self) -> str:
        return f"{PREFIX}{self.name.lower()}"

    def details(self) -> str:
        decl = self.decl
        facts = [decl["type"]]
        if "minimum" in decl or "maximum" in decl:
            facts.append(f"{decl.get('minimum', '')}..{decl.get('maximum', '')}")
        if "maxLength" in decl:
            facts.append(f"at most {decl['maxLength']} bytes")
        if "default" in decl:
            facts.append(f"default {_text(decl['default'])}")
        if decl.get("secret"):
            facts.append("secret: not edited here, set it in platformio_override.ini with ${sysenv.NAME}")
        return f"{self.option} ({', '.join(facts)}; declared in {self.origin})\n{decl['description']}"


def _text(value: Any) -> str:
    """A setting value as platformio.ini writes it."""
    return str(value).lower() if isinstance(value, bool) else str(value)


class MenuModel:
    """The env's choice being edited: transport, devices, commands, settings (option text)."""

    def __init__(self, project_dir: Path, env: str) -> None:
        self.project_dir = project_dir
        self.env = env
        ini = ProjectIni(project_dir / "platformio.ini")
        self.override = override_path(project_dir, _patterns(ini))
        self.options = ini.env(env)
        self.defs = Definitions(list(self.options.definitions(project_dir)))
        self.platformio_board = self.options.text("board")
        current = Selection.from_platformio(env, self.platformio_board, self.options.firmware())
        self.board = find_board(self.defs, current)
        self.arch = self.board["architecture"]
        self.transport = current.transport
        self.devices = list(current.devices)
        self.commands = [c.lower() for c in current.commands]
        self.settings = dict(current.settings)
        self.base = _base_firmware(project_dir, env, self.override)

    # ---- what fits the board -------------------------------------------------------------

    def transports(self) -> list[Item]:
        out = []
        for tid in self.defs.ids("transport"):
            transport = self.defs.get("transport", tid)
            if self.arch in transport["architectures"]:
                names = ", ".join(sorted(transport.get("settings", {}))) or "none"
                out.append(Item(tid, transport["description"], f"{transport['description']}\nsettings: {names}"))
        return out

    def devices_available(self) -> list[Item]:
        out = []
        for did in self.defs.ids("device"):
            device = self.defs.get("device", did)
            needs = device_commands(self.defs, device)
            if all(supports(self.defs.get("command", c), self.arch) for c in needs):
                out.append(Item(did, f"{device['name']} -> {', '.join(needs)}",
                                f"{device['name']}: brings the commands {', '.join(needs)}"))
        return out

    def commands_available(self) -> list[Item]:
        out = []
        for cid in self.defs.ids("command"):
            command = self.defs.get("command", cid)
            if command.get("system") or not supports(command, self.arch):
                continue
            lines = [usage(command), command["description"]]
            lines += [f"  {a['name']} ({a['type']}): {a.get('description', '')}" for a in command.get("args", [])]
            if command.get("settings"):
                lines.append(f"settings: {', '.join(sorted(command['settings']))}")
            out.append(Item(cid, command["description"], "\n".join(lines)))
        return out

    def from_devices(self) -> dict[str, list[str]]:
        """command id -> the chosen devices that bring it."""
        out: dict[str, list[str]] = {}
        for did in self.devices:
            for cid in device_commands(self.defs, self.defs.get("device", did)):
                out.setdefault(cid, []).append(did)
        return out

    def settings_available(self) -> list[Setting]:
        """The settings of the chosen transport and commands (those of the devices too)."""
        selection = self.selection()
        parts = [("transport", self.defs.get("transport", self.transport))]
        parts += [("command", c) for c in selected_commands(self.defs, selection)]
        return [Setting(name, decl, origin)
                for name, (decl, origin) in sorted(declared_settings(self.defs, parts).items())]

    def value(self, setting: Setting) -> str:
        """The setting's text as the env would build with it (its own value, else the default)."""
        if setting.name in self.settings:
            return self.settings[setting.name]
        return _text(setting.decl["default"]) if "default" in setting.decl else ""

    # ---- changes ---------------------------------------------------------------------------

    def choose_transport(self, tid: str) -> None:
        self.transport = tid

    def toggle(self, chosen: list[str], item: str) -> None:
        """Add or remove a device or command id."""
        if item in chosen:
            chosen.remove(item)
        else:
            chosen.append(item)

    def set_setting(self, setting: Setting, text: str) -> None:
        """Set a setting's text; a value its declaration refuses is refused, with the generator's
        own message (codegen.settings.coerce), and changes nothing."""
        if setting.decl.get("secret"):
            raise FirmwareError(f"{setting.option} is secret: the menu does not write it",
                                f"set it in {self.override.name} yourself, e.g. = ${{sysenv.FIRMWARE_{setting.name}}}")
        coerce(setting.name, setting.decl, text.strip(), f"{setting.option} in the menu")
        self.settings[setting.name] = text.strip()

    def reset_setting(self, setting: Setting) -> None:
        """Back to the declared default (written out when platformio.ini sets another value)."""
        if "default" in setting.decl:
            self.settings[setting.name] = _text(setting.decl["default"])
        else:
            self.settings.pop(setting.name, None)

    # ---- checking and saving ------------------------------------------------------------------

    def firmware_options(self) -> dict[str, str]:
        """The custom_firmware_* options of the current choice: the env's board definition, if it
        names one, the transport, commands, devices, and the settings this selection uses."""
        used = {s.name for s in self.settings_available()}
        board = self.options.text(f"{PREFIX}board")
        options = {f"{PREFIX}board": board} if board else {}
        options.update({f"{PREFIX}transport": self.transport,
                        f"{PREFIX}commands": ", ".join(self.commands),
                        f"{PREFIX}devices": ", ".join(self.devices)})
        options.update({f"{PREFIX}{name.lower()}": text for name, text in self.settings.items() if name in used})
        return options

    def selection(self) -> Selection:
        return Selection(transport=self.transport, board=self.options.text(f"{PREFIX}board"),
                         platformio_board=self.platformio_board, commands=tuple(self.commands),
                         devices=tuple(self.devices), origin=f"[env:{self.env}]")

    def check(self) -> Sketch:
        """Generate the sketch of the current choice, exactly as `pio run` would: raises the
        generator's own FirmwareError for anything it refuses."""
        selection = Selection.from_platformio(self.env, self.platformio_board, self.firmware_options())
        return generate(selection, self.env, list(self.options.definitions(self.project_dir)), TEMPLATES)

    def save(self) -> Path:
        """Check, then write the options that differ from platformio.ini's into the override
        file (and drop those that no longer differ); nothing is written when the check fails."""
        self.check()
        wanted = self.firmware_options()
        managed = {f"{PREFIX}{k}" for k in ("transport", "commands", "devices")}
        managed |= {f"{PREFIX}{name.lower()}" for kind in ("transport", "command") for ident in self.defs.ids(kind)
                    for name in self.defs.get(kind, ident).get("settings", {})}
        defaults = {s.option: _text(s.decl["default"]) for s in self.settings_available() if "default" in s.decl}
        values = {k: v for k, v in wanted.items()
                  if k in managed and not _same(k, v, self.base.get(k, defaults.get(k)))}
        update_env(self.override, self.env, values, managed - set(values))
        saved = ProjectIni(self.project_dir / "platformio.ini").env(self.env).firmware()
        for option, value in wanted.items():
            if not _same(option, value, saved.get(option, defaults.get(option))):
                raise FirmwareError(f"{self.override} was written, but [env:{self.env}] {option} is still "
                                    f"{saved.get(option)!r}: a config file read after it sets it again",
                                    "see [platformio] extra_configs in platformio.ini")
        return self.override


def _patterns(ini: ProjectIni) -> list[str]:
    raw = ini.parser.get("platformio", "extra_configs", fallback="")
    return [p.strip() for p in raw.replace(",", "\n").splitlines() if p.strip()]


def _base_firmware(project_dir: Path, env: str, override: Path) -> dict[str, str]:
    """The env's custom_firmware_* options without the override file (none if only it has the env)."""
    base = ProjectIni(project_dir / "platformio.ini", leave_out=(override,))
    return base.env(env).firmware() if env in base.envs() else {}


def _same(option: str, value: str, base: str | None) -> bool:
    """Whether platformio.ini alone already gives `value` (lists compared as sets of ids)."""
    if base is None:
        return False
    if option.endswith(("_commands", "_devices")):
        return sorted(i.lower() for i in split_ids(value)) == sorted(i.lower() for i in split_ids(base))
    return value.strip().lower() == base.strip().lower()
