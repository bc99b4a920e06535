"""Firmware generator: turns a board/transport/commands selection into an Arduino sketch.

Plain Python: nothing here imports PlatformIO or SCons, so every part is testable on its own.
"""

__version__ = "0.1.0"
