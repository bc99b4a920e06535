"""Flashing a raw image onto a CH32V203 (BMCU-C) with Klipper out of the way: `flow.flash` is the
entry point; `klipper` and `moonraker` stop and start Klipper, `lock` keeps one flash per port,
`image` checks the image, and `wchisp/` holds everything specific to the wchisp tool."""

DEFAULT_URL = "http://localhost:7125"  # Moonraker's address on a Klipper host
API_KEY_ENV = "MOONRAKER_API_KEY"      # the environment variable that can hold its API key
