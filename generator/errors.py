"""Errors meant for the user, and the one place that prints errors and warnings.

A `FirmwareError` is a problem the user can fix: it prints as its message and hint, never as a
traceback. Anything else is a bug of the generator's: it prints as one line that says so, and
with `--verbose` (or FIRMWARE_VERBOSE=1, which the PlatformIO glue honours too) with its traceback.
"""
from __future__ import annotations

import os
import sys
import traceback
from typing import TextIO

VERBOSE_ENV = "FIRMWARE_VERBOSE"


class FirmwareError(Exception):
    """A problem the user can fix: `message` says what is wrong, `hint` how to fix it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


def unknown_id(kind: str, given: str, valid: list[str], where: str, how_to_add: str = "") -> FirmwareError:
    """An error for an id that names no definition: lists the valid ids and the closest one,
    and how to add one when that is worth saying."""
    import difflib  # noqa: PLC0415 - only on the error path

    close = difflib.get_close_matches(given.lower(), valid, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return FirmwareError(
        f"unknown {kind} '{given}' ({where})",
        f"{hint}valid {kind}s: {', '.join(valid) if valid else '(none)'}{'; ' + how_to_add if how_to_add else ''}",
    )


def verbose_from_env() -> bool:
    """Whether FIRMWARE_VERBOSE asks for tracebacks (any value but '', 0, no, false, off)."""
    return os.environ.get(VERBOSE_ENV, "").strip().lower() not in ("", "0", "no", "false", "off")


def report(exc: BaseException, verbose: bool = False, stream: TextIO | None = None) -> int:
    """Print `exc` for the user and return the exit status to use (1; 130 for Ctrl-C)."""
    out = stream or sys.stderr
    verbose = verbose or verbose_from_env()
    if verbose:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=out)  # this form on 3.9 too
    if isinstance(exc, KeyboardInterrupt):
        print("error: interrupted", file=out, flush=True)
        return 130
    if isinstance(exc, FirmwareError):
        print(f"error: {exc}", file=out, flush=True)
    else:
        print(f"error: internal error: {type(exc).__name__}: {exc}", file=out, flush=True)
        if not verbose:
            print(f"  hint: this is a bug in the generator; run again with --verbose (or {VERBOSE_ENV}=1) "
                  "for the traceback, and report it", file=out, flush=True)
    return 1


def warn(message: str, stream: TextIO | None = None) -> None:
    """Print a warning: something works, but probably not as the user meant."""
    print(f"warning: {message}", file=stream or sys.stderr, flush=True)
