"""Flashing a raw image onto a CH32V203 (BMCU-C) with Klipper out of the way: `flow.flash` is the
entry point; `klipper` and `moonraker` stop and start Klipper, `lock` keeps one flash per port,
`image` checks the image, and `wchisp/` holds everything specific to the wchisp tool."""
