"""Support for the tests and the benchmark: project copies driven through real PlatformIO, firmware
inspection, and strict fakes (`fakes/`) of what cannot run here. Not part of the generator."""
