"""The benchmark's firmware figures are simulated cycles, not the machine's speed: the board runs
in lock-step with its host (bench/run.py's LockstepLink: `send` at an exact cycle, then `step`),
so two runs of the same ELF give identical figures however loaded the machine is. A reduced set:
PING and GPIO_READ, text and frames, three times each, plus a short pipelined burst. Real
`pio run`, simavr, pyserial."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from generator.paths import ROOT
from testsupport import helpers

sys.path.insert(0, str(ROOT / "bench"))
import run as bench

ENVS = {"uno_1m": helpers.avr_env("uno", transport="serial_standard", commands="gpio_write, gpio_read",
                                  baud_rate="1000000")}


@pytest.fixture(scope="module")
def elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The uno with GPIO commands at 1,000,000 baud (the figures the pipelined goal uses)."""
    root = helpers.copy_project(tmp_path_factory.mktemp("bench") / "project")
    helpers.set_envs(root, ENVS)
    result = helpers.run_pio(root, "run", "-e", "uno_1m")
    assert result.returncode == 0, result.output
    return helpers.build_dir(root, "uno_1m") / "firmware.elf"


def test_cycle_figures_are_identical_across_two_runs(elf: Path) -> None:
    def figures() -> dict[str, dict[str, object]]:
        return bench.board_cycle_figures(elf, "uno", 1_000_000, ("PING", "GPIO_READ"), repeats=3, pipelined=40)

    first = figures()
    assert set(first) >= {"text_cycles_1m", "frame_cycles_1m", "wire_share_1m", "pipelined_1m"}
    assert first["frame_cycles_1m"]["PING"] is None  # a system command: text only
    assert isinstance(first["frame_cycles_1m"]["GPIO_READ"], int)
    assert first["pipelined_1m"]["reply_bytes"][1] > 0
    assert figures() == first
