"""What the user selected: board, transport, commands, devices and settings, from either front end."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from generator.errors import FirmwareError
from generator.values import PREFIX, split_ids

KEYS = ("board", "transport", "commands", "devices")


@dataclass(frozen=True)
class Selection:
    """One firmware selection. `origin` says where options come from, for error messages."""

    transport: str
    board: str = ""              # a board definition id, if named explicitly
    platformio_board: str = ""   # the env's `board`, matched against platformio_boards
    commands: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    settings: dict[str, str] = field(default_factory=dict)
    origin: str = "cli"          # "cli" or "[env:NAME]"
    platformio_mcu: str = ""     # the env's MCU (PlatformIO's build.mcu), to check the board against
    platformio_platform: str = ""  # the env's platform, named in messages
    inherited: frozenset[str] = frozenset()  # SETTINGS the env inherits from a shared section
    env_vars: dict[str, tuple[str, ...]] = field(default_factory=dict)  # SETTING -> ${sysenv.X} it reads

    def option(self, key: str) -> str:
        """Where the user sets `key` (board, transport, ... or a SETTING), for messages:
        'custom_firmware_transport in [env:uno]', '--transport' or '--set BAUD_RATE'."""
        return self.option_name(key) if self.origin == "cli" else f"{self.option_name(key)} in {self.origin}"

    def option_name(self, key: str) -> str:
        """The bare option for `key`: 'custom_firmware_baud_rate', '--set BAUD_RATE' or '--board'."""
        if self.origin == "cli":
            return f"--set {key}" if key.isupper() else f"--{key}"
        return f"{PREFIX}{key.lower()}"

    def how_to_set(self, key: str) -> str:
        """The fix for a missing `key`: 'add custom_firmware_wifi_ssid = <value> to [env:d1]'."""
        if self.origin == "cli":
            return f"add --set {key}=<value>" if key.isupper() else f"add --{key} <value>"
        return f"add {PREFIX}{key.lower()} = <value> to {self.origin}"

    @classmethod
    def from_platformio(cls, env_name: str, pio_board: str, options: Mapping[str, str], *, mcu: str = "",
                        platform: str = "", inherited: Iterable[str] = (),
                        env_vars: Mapping[str, Iterable[str]] | None = None) -> Selection:
        """Build from an env's options: custom_firmware_<key>, other keys being SETTINGS.
        `inherited` and `env_vars` are keyed by option name, as in platformio.ini."""
        origin = f"[env:{env_name}]"
        ours = {k[len(PREFIX):].lower(): str(v) for k, v in options.items() if k.startswith(PREFIX)}
        transport = ours.pop("transport", "").strip()
        if not transport:
            raise FirmwareError(f"no transport selected in {origin}",
                                f"add {PREFIX}transport = serial_standard (or another transport id)")
        return cls(
            transport=transport.lower(),
            board=ours.pop("board", "").strip(),
            platformio_board=pio_board,
            commands=tuple(split_ids(ours.pop("commands", ""))),
            devices=tuple(split_ids(ours.pop("devices", ""))),
            settings={k.upper(): v for k, v in sorted(ours.items())},
            origin=origin,
            platformio_mcu=mcu,
            platformio_platform=platform,
            inherited=frozenset(k[len(PREFIX):].upper() for k in inherited if k.startswith(PREFIX)),
            env_vars={k[len(PREFIX):].upper(): tuple(v) for k, v in (env_vars or {}).items()
                      if k.startswith(PREFIX)},
        )
