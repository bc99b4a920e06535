"""Code generation: a selection (board, transport, commands, devices, settings) checked against
the definitions and rendered through the templates into one complete Arduino sketch.

Public API: `Selection`, `generate`, `Sketch`. They load on first use, so that importing a
submodule (the build's fast path does) never pulls in Jinja2 or jsonschema.
"""
from __future__ import annotations

from typing import Any

__all__ = ["Selection", "Sketch", "generate"]


def __getattr__(name: str) -> Any:
    if name == "Selection":
        from generator.codegen.selection import Selection  # noqa: PLC0415 - lazy export

        return Selection
    if name in ("Sketch", "generate"):
        from generator.codegen import sketch  # noqa: PLC0415 - lazy export: Jinja2 on first use

        return getattr(sketch, name)
    raise AttributeError(f"module 'generator.codegen' has no attribute {name!r}")
