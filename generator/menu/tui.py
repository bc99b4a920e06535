"""The terminal menu over `MenuModel`, drawn with curses (Python's standard library).

One screen per list (transport, devices, commands, settings), the highlighted row's details and
the generator's verdict on the current choice below it. Keys: Up/Down (or k/j) move, Enter or
Space choose/toggle/edit, d resets a setting to its default, Esc/Left/q go back (q on the main
screen quits without saving; so does Ctrl-C anywhere), s saves.
"""
from __future__ import annotations

import curses
import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from generator.errors import FirmwareError
from generator.menu.model import MenuModel, Setting

HELP = "Up/Down move  Enter/Space choose  d default  s save  Esc/q back"
ESC = 27
CTRL_C = 3
BACK_KEYS = (ESC, curses.KEY_LEFT, ord("q"), curses.KEY_BACKSPACE, 127)
CHOOSE_KEYS = (curses.KEY_ENTER, 10, 13, ord(" "), curses.KEY_RIGHT)


@dataclass
class Row:
    """One line of a screen: its text, the details shown below, what Enter does."""

    label: str
    details: str
    action: Callable[[], None] | None = None
    setting: Setting | None = None


class Done(Exception):
    """Leave the menu: `saved` says whether the choice was written."""

    def __init__(self, saved: bool) -> None:
        super().__init__()
        self.saved = saved


class Menu:
    """The screens and the key loop; every change goes through the model."""

    def __init__(self, window: curses.window, model: MenuModel) -> None:
        self.window = window
        self.model = model
        self.message = ""
        self.checked: tuple[dict[str, str], str] = ({}, "")

    # ---- screens ----------------------------------------------------------------------------

    def main_rows(self) -> list[Row]:
        m = self.model
        brought = m.from_devices()
        extra = sorted(set(brought) - set(m.commands))
        settings = m.settings_available()
        return [
            Row(f"Transport   ({m.transport})", "How the host talks to the board.",
                lambda: self.list_screen("Transport", self.transport_rows)),
            Row(f"Devices     ({', '.join(m.devices) or 'none'})",
                "Device templates: each brings the commands it needs.",
                lambda: self.list_screen("Devices", self.device_rows)),
            Row(f"Commands    ({', '.join(m.commands) or 'none'}"
                f"{'; from devices: ' + ', '.join(extra) if extra else ''})",
                "Commands the firmware answers (PING, INFO, RESET and FRAMES always).",
                lambda: self.list_screen("Commands", self.command_rows)),
            Row(f"Settings    ({', '.join(f'{s.name}={m.value(s)}' for s in settings) or 'none'})",
                "Settings of the transport and of the chosen commands.",
                lambda: self.list_screen("Settings", self.setting_rows)),
            Row(f"Save to {m.override.name} and exit",
                f"Writes the options that differ from platformio.ini into [env:{m.env}] of "
                f"{m.override}; platformio.ini is never changed.", self.save),
            Row("Exit without saving", "Leaves everything as it was.", self.quit),
        ]

    def transport_rows(self) -> list[Row]:
        m = self.model
        return [Row(f"({'*' if t.id == m.transport else ' '}) {t.id:<18} {t.summary}", t.details,
                    partial(m.choose_transport, t.id)) for t in m.transports()]

    def device_rows(self) -> list[Row]:
        m = self.model
        return [Row(f"[{'x' if d.id in m.devices else ' '}] {d.id:<22} {d.summary}", d.details,
                    partial(m.toggle, m.devices, d.id)) for d in m.devices_available()]

    def command_rows(self) -> list[Row]:
        m = self.model
        brought = m.from_devices()
        rows = []
        for c in m.commands_available():
            mark = "x" if c.id in m.commands else ("+" if c.id in brought else " ")
            by = f"\nbrought by the device(s) {', '.join(brought[c.id])}" if c.id in brought else ""
            rows.append(Row(f"[{mark}] {c.id:<14} {c.summary}", c.details + by,
                            partial(m.toggle, m.commands, c.id)))
        return rows

    def setting_rows(self) -> list[Row]:
        m = self.model
        return [Row(f"{s.name:<18} = {m.value(s)}", s.details(), partial(self.edit, s), s)
                for s in m.settings_available()]

    # ---- actions ----------------------------------------------------------------------------

    def edit(self, setting: Setting) -> None:
        """Edit a setting: booleans flip, other types are typed on the bottom line."""
        m = self.model
        if setting.decl["type"] == "boolean":
            text = "false" if m.value(setting).lower() in ("true", "1", "yes", "on") else "true"
        else:
            typed = self.prompt(f"{setting.option} = ", m.value(setting))
            if typed is None:
                return
            text = typed
        m.set_setting(setting, text)

    def save(self) -> None:
        self.model.save()
        raise Done(saved=True)

    def quit(self) -> None:
        raise Done(saved=False)

    # ---- drawing and keys --------------------------------------------------------------------

    def verdict(self) -> str:
        """The generator's word on the current choice (generated again only when it changed)."""
        options = self.model.firmware_options()
        if options != self.checked[0]:
            try:
                sketch = self.model.check()
                text = (f"ok: generates (hash {sketch.hash}; capabilities: "
                        f"{', '.join(sketch.capabilities) or 'none'})")
            except FirmwareError as exc:
                text = f"REFUSED (as pio run would): {exc}"
            self.checked = (options, text)
        return self.checked[1]

    def draw(self, title: str, rows: list[Row], cursor: int) -> None:
        win = self.window
        win.erase()
        height, width = win.getmaxyx()
        m = self.model
        self.put(0, f"menuconfig [env:{m.env}]  board {m.board['id']} ({m.board['name']}, {m.arch})  > {title}",
                 curses.A_BOLD)
        top = max(0, cursor - (height - 14))
        for line, row in enumerate(rows[top:top + max(1, height - 13)]):
            self.put(2 + line, f"{'>' if top + line == cursor else ' '} {row.label}",
                     curses.A_REVERSE if top + line == cursor else 0)
        y = min(len(rows), height - 13) + 3
        details = rows[cursor].details if rows else ""
        for offset, text in enumerate(_wrap(details, width - 2)[:5]):
            self.put(y + offset, "  " + text)
        status = _wrap(self.message or self.verdict(), width - 1)[:4]
        for index, text in enumerate(status):
            self.put(height - 5 + index, text, curses.A_BOLD)
        self.put(height - 1, HELP)
        win.refresh()

    def put(self, y: int, text: str, attr: int = 0) -> None:
        height, width = self.window.getmaxyx()
        if 0 <= y < height:
            try:
                self.window.addnstr(y, 0, text, width - 1, attr)
            except curses.error:
                pass  # the last cell of the screen: curses writes it and then complains

    def prompt(self, label: str, text: str) -> str | None:
        """A line editor on the bottom line: Enter accepts, Esc cancels."""
        _cursor(True)
        try:
            while True:
                height, _ = self.window.getmaxyx()
                self.window.move(height - 1, 0)
                self.window.clrtoeol()
                self.put(height - 1, f"{label}{text}   (Enter: set, Esc: cancel)")
                self.window.move(height - 1, min(len(label) + len(text), self.window.getmaxyx()[1] - 1))
                key = self.window.get_wch()
                if key in ("\n", "\r", curses.KEY_ENTER):
                    return text
                if key in ("\x1b", "\x03"):
                    return None
                if key in (curses.KEY_BACKSPACE, "\x7f", "\b"):
                    text = text[:-1]
                elif isinstance(key, str) and key.isprintable():
                    text += key
        finally:
            _cursor(False)

    def list_screen(self, title: str, rows_of: Callable[[], list[Row]]) -> None:
        """Show a list until the user goes back; on the main screen, back means quit."""
        cursor = 0
        while True:
            rows = rows_of()
            cursor = min(cursor, max(0, len(rows) - 1))
            self.draw(title, rows, cursor)
            key = self.window.getch()
            self.message = ""
            if key == CTRL_C:
                self.quit()
            if key in (curses.KEY_UP, ord("k")):
                cursor = (cursor - 1) % max(1, len(rows))
            elif key in (curses.KEY_DOWN, ord("j")):
                cursor = (cursor + 1) % max(1, len(rows))
            elif key in CHOOSE_KEYS and rows and (action := rows[cursor].action):
                self.attempt(action)
            elif key == ord("s"):
                self.attempt(self.save)
            elif key == ord("d") and rows and (setting := rows[cursor].setting):
                self.model.reset_setting(setting)
            elif key in BACK_KEYS:
                if title != "Main":
                    return
                if key in (ESC, ord("q")):  # not Left or Backspace: no work lost to a stray key
                    self.quit()

    def attempt(self, action: Callable[[], None]) -> None:
        """Run an action; what the generator refuses is shown, and nothing changes."""
        try:
            action()
        except FirmwareError as exc:
            self.message = f"REFUSED: {exc}"


def _cursor(visible: bool) -> None:
    """Show or hide the cursor, where the terminal can."""
    try:
        curses.curs_set(1 if visible else 0)
    except curses.error:
        pass  # a terminal without cursor visibility: it stays as it is


def _wrap(text: str, width: int) -> list[str]:
    return [piece for line in text.splitlines() for piece in (textwrap.wrap(line, max(10, width)) or [""])]


def run(model: MenuModel) -> bool:
    """Show the menu in the terminal until the user saves (True) or quits (False)."""
    def main(window: curses.window) -> bool:
        curses.raw()  # Ctrl-C is a key here (quit), not a signal that PlatformIO would see as a failure
        _cursor(False)
        curses.set_escdelay(25)
        menu = Menu(window, model)
        try:
            menu.list_screen("Main", menu.main_rows)
        except Done as done:
            return done.saved
        return False

    for stale in ("LINES", "COLUMNS"):  # ncurses would trust them over the terminal's real size,
        os.environ.pop(stale, None)     # and a parent (PlatformIO under a test) may leave 24x80
    return curses.wrapper(main)
