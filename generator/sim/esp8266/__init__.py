"""The d1_mini firmware on the host: esp8266/Arduino's own emulation (tests/host), fixed and run."""
