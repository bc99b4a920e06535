#!/usr/bin/env python3
"""A process that holds a serial port open until it is terminated: Klipper, or a serial monitor."""
import os
import signal
import sys

fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    signal.pause()
