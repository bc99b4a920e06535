"""`menuconfig`: choose an env's firmware in a terminal menu, saved to platformio_override.ini."""
