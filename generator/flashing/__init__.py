"""Flashing a raw firmware image onto a CH32V203 (BMCU-C) with wchisp, with Klipper out of the way.

`flow.flash` is the entry point; each other module does one step of it.
"""
