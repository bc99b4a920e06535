#!/usr/bin/env python3
"""A process that holds a serial port open until it is terminated: Klipper, or a serial monitor.

`holder.py PORT` opens it; `--flock` takes an flock as Klipper does (pyserial `exclusive=True`,
klippy/serialhdl.py:193-194); `--tiocexcl` also sets TIOCEXCL, as serialport-rs does: the kernel
then refuses other non-root openers with EBUSY (the tests run as root, which TIOCEXCL lets
through, so the fake wchisp reads this flag from the holder's command line instead).
"""
import fcntl
import os
import signal
import sys
import termios

fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
if "--flock" in sys.argv[2:]:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
if "--tiocexcl" in sys.argv[2:]:
    fcntl.ioctl(fd, termios.TIOCEXCL)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    signal.pause()
