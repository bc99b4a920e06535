"""`python -m generator ... | head`: a reader that stops early ends the command quietly."""
from __future__ import annotations

import os
import subprocess

from generator.paths import ROOT
from testsupport import helpers


def test_a_closed_pipe_is_no_internal_error() -> None:
    """The reader is gone before the sketch is written: no traceback, no 'internal error', and the
    status of a program that SIGPIPE ended (as `cat` has under `set -o pipefail`)."""
    read, write = os.pipe()
    os.close(read)  # nobody will ever read: the first write fails with EPIPE
    try:
        proc = subprocess.run([helpers.PYTHON, "-m", "generator", "generate", "--env", "uno", "--json"], cwd=ROOT,
                              stdout=write, stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    finally:
        os.close(write)
    assert proc.stderr == ""
    assert proc.returncode == 141
