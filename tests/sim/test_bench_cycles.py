"""The benchmark's firmware figures are simulated cycles, not the machine's speed: the board runs
in lock-step with its host (bench/run.py's LockstepLink: `send` at an exact cycle, then `step`),
so two runs of the same ELF give identical figures however loaded the machine is. A reduced set:
PING and GPIO_READ, text and frames, three times each, plus a short pipelined burst; and the
Firmata figures' host (LockstepFirmata) on a stand-in for StandardFirmata, whose source CI lacks.
Real `pio run`, simavr, pyserial."""
from __future__ import annotations

import shutil
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
    assert isinstance(first["frame_cycles_1m"]["PING"], int)  # system commands have frame forms too
    assert isinstance(first["frame_cycles_1m"]["GPIO_READ"], int)
    assert first["pipelined_1m"]["reply_bytes"][1] > 0
    assert figures() == first


# Answers bench/run.py's FIRMATA_REQUESTS as StandardFirmata 2.5.9 does, at once, and like it
# reports A0 every millisecond while REPORT_ANALOG is on (so the board is never quiet then).
FAKE_FIRMATA = r"""
#include <Arduino.h>
static const uint8_t version[] = {0xF9, 2, 5};
static uint8_t message[8], length;
static bool reporting;
static unsigned long reported;

static void report_a0() {
  int value = analogRead(A0);
  uint8_t reply[] = {0xE0, (uint8_t)(value & 0x7F), (uint8_t)(value >> 7)};
  Serial.write(reply, 3);
}

void setup() {
  Serial.begin(115200);
  Serial.write(version, 3);
}

void loop() {
  while (Serial.available()) {
    uint8_t b = Serial.read();
    if (b == 0xF7 && length >= 3 && message[0] == 0xF0 && message[1] == 0x6D) {  // PIN_STATE_QUERY
      uint8_t reply[] = {0xF0, 0x6E, message[2], 1, (uint8_t)digitalRead(message[2]), 0xF7};
      Serial.write(reply, 6);
    }
    if (b & 0x80) length = 0;
    if (length < sizeof message) message[length++] = b;
    if (b == 0xF9) {
      Serial.write(version, 3);
    } else if (length == 2 && message[0] == 0xD0 && message[1]) {  // REPORT_DIGITAL port 0 on
      uint8_t reply[] = {0x90, 0, (uint8_t)digitalRead(7)};
      Serial.write(reply, 3);
    } else if (length == 2 && message[0] == 0xC0) {  // REPORT_ANALOG A0
      reporting = message[1];
      if (reporting) report_a0();
    } else if (length == 3 && message[0] == 0xF4) {  // SET_PIN_MODE
      pinMode(message[1], message[2] ? OUTPUT : INPUT);
    } else if (length == 3 && message[0] == 0xF5) {  // SET_DIGITAL_PIN_VALUE
      digitalWrite(message[1], message[2]);
    }
  }
  if (reporting && millis() != reported) {
    reported = millis();
    report_a0();
  }
}
"""


@pytest.fixture(scope="module")
def fake_firmata(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """FAKE_FIRMATA built for the uno."""
    project = tmp_path_factory.mktemp("fake_firmata")
    shutil.copytree(ROOT / "platforms", project / "platforms", symlinks=True)
    (project / "platformio.ini").write_text(bench.STATIC_INI, encoding="utf-8")
    (project / "src").mkdir()
    (project / "src" / "main.cpp").write_text(FAKE_FIRMATA, encoding="utf-8")
    result = helpers.run_pio(project, "run", "-e", "uno")
    assert result.returncode == 0, result.output
    return helpers.build_dir(project, "uno") / "firmware.elf"


def test_firmata_figures_are_identical_across_two_runs(fake_firmata: Path) -> None:
    first = bench.firmata_cycle_figures(fake_firmata, 115200, repeats=3)
    assert list(first["firmata_cycles"]) == list(bench.FIRMATA_REQUESTS)
    assert all(isinstance(cycles, int) and cycles > 0 for cycles in first["firmata_cycles"].values())
    assert bench.firmata_cycle_figures(fake_firmata, 115200, repeats=3) == first
