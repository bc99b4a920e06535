"""One PlatformIO env, without importing PlatformIO: its options (`options`), its generated sketch
kept up to date incrementally (`envsketch`), the generator's dependencies in PlatformIO's Python
(`deps`), and its upload request (`upload`)."""
