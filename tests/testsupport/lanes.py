"""Which tests are slow: those that build firmware, compile C++, run PlatformIO, install packages,
run the simulated board or flash the fake one. tests/conftest.py marks them `slow`, so that
`make test-fast` (pytest -m "not slow") runs the rest in under a minute; `make test` runs everything.

A test is slow when its own code, a fixture it uses, or a function of their module that they call
(followed through the module's own functions) names one of SLOW_NAMES. Read from the source,
nothing is run: a new test that builds or simulates through these names is marked without a list
to keep up to date.
"""
from __future__ import annotations

import ast
import inspect
import re
import sys
from collections.abc import Callable
from functools import cache
from typing import Any

# What builds, compiles, installs or simulates: PlatformIO, the compilers, arduino-builder, pip into a
# fresh venv, the tool-scons installer, the simulated boards (AVR, CH32V and the CH32 cross build), the
# ESP8266 host emulation; and a flash through the fake board and the wchisp stand-in, which pauses
# as wchisp 0.3.0 does (1.5 s a flash).
SLOW_NAMES = re.compile(r"\b(run_pio|PIO|pio_environ|make_core_dir|arduino_builder|avr_compile|compile_sketch|"
                        r"venv|pip|install_tool_scons|SimBoard|SIM_BINARY|simulator|esp8266host|avr-g\+\+|g\+\+|make|"
                        r"FakeBoard|start_flash|board_simulator|ch32build)\b")


@cache
def _slow_functions(module_name: str) -> frozenset[str]:
    """The module's own functions that name SLOW_NAMES, directly or through each other."""
    module = sys.modules.get(module_name)
    try:
        tree = ast.parse(inspect.getsource(module)) if module else None
    except (OSError, TypeError):
        tree = None
    if tree is None:
        return frozenset()
    bodies = {node.name: ast.unparse(node) for node in ast.walk(tree)
              if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    slow = {name for name, body in bodies.items() if SLOW_NAMES.search(body)}
    while True:
        more = {name for name, body in bodies.items() if name not in slow
                and any(re.search(rf"\b{callee}\b", body) for callee in slow)}
        if not more:
            return frozenset(slow)
        slow |= more


def _is_slow(func: Callable[..., Any]) -> bool:
    func = inspect.unwrap(func)
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        return False
    if SLOW_NAMES.search(source):
        return True
    return any(re.search(rf"\b{name}\b", source) for name in _slow_functions(func.__module__) - {func.__name__})


def is_slow(function: Callable[..., Any], fixtures: list[Callable[..., Any]]) -> bool:
    """Whether a test, given its function and the functions of the fixtures it uses, is slow."""
    return _is_slow(function) or any(_is_slow(fixture) for fixture in fixtures)
