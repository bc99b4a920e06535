#!/usr/bin/env python3
"""A process that holds a serial port open until it is terminated: Klipper, or a serial monitor.

`holder.py PORT` opens it (PORT `-`: none, a Klippy whose MCU is elsewhere); `--flock` takes an
flock as Klipper does (pyserial `exclusive=True`,
klippy/serialhdl.py:193-194); `--tiocexcl` also sets TIOCEXCL, as serialport-rs does: the kernel
then refuses other non-root openers with EBUSY (the tests run as root, which TIOCEXCL lets
through, so the fake wchisp reads this flag from the holder's command line instead). What follows
`--` is ignored: Klippy's own command line (`.../klippy.py printer.cfg -a klippy.sock ...`), so that
/proc/PID/cmdline reads as a running Klippy's does.
"""
import fcntl
import os
import signal
import sys
import termios

options = sys.argv[2:sys.argv.index("--")] if "--" in sys.argv else sys.argv[2:]
if sys.argv[1] != "-":
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
    if "--flock" in options:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    if "--tiocexcl" in options:
        fcntl.ioctl(fd, termios.TIOCEXCL)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    signal.pause()
