"""Errors that stop a command with a message meant for the user, never a traceback."""
from __future__ import annotations


class FirmwareError(Exception):
    """A problem the user can fix: `message` says what is wrong, `hint` how to fix it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


def unknown_id(kind: str, given: str, valid: list[str], where: str) -> FirmwareError:
    """An error for an id that names no definition: lists the valid ids and the closest one."""
    import difflib  # noqa: PLC0415 - only on the error path

    close = difflib.get_close_matches(given.lower(), valid, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return FirmwareError(
        f"unknown {kind} '{given}' ({where})",
        f"{hint}valid {kind}s: {', '.join(valid) if valid else '(none)'}",
    )
