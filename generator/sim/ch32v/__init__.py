"""The simulated CH32V203 (BMCU-C) on Unicorn: `python -m generator.sim.ch32v` runs an ELF."""
