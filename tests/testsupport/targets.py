"""One protocol test, several boards: the simulated uno (simavr) and the emulated D1 mini (the
ESP8266 core's host emulation) over wifi_tcp and over serial_standard. A `Target` holds what
differs between them; a test module's `target` fixture is `targets.start(request, its_uno)`.

The emulated D1 mini has no pin model: a pin reads back what was last written to it (so `drive`
writes it through the protocol), and analogRead is always 512.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pytest

from generator.host.client import BoardClient
from generator.sim.board import ResetEvent, SimBoard
from testsupport import esp8266host

PARAMS = ["uno", "d1_mini/wifi_tcp", "d1_mini/serial_standard"]
# Arduino pin -> simulator port pin on the uno, for the pins the shared tests use.
UNO_PORTS = {2: "PD2", 4: "PD4", 7: "PD7", 9: "PB1", 12: "PB4", 13: "PB5"}


@dataclass
class Target:
    """A board running a selection with every command, and what differs between boards."""

    client: BoardClient
    window: int        # INFO's window
    in_pin: int        # a digital pin the tests read (12 and 13 are written: digital pins everywhere)
    pwm_pin: int       # a pin with PWM
    no_pwm_pin: int    # a digital pin without PWM
    dht_pin: int       # a pin a DHT may be on
    analog_pin: int    # A0's pin number
    drive: Callable[[int, int], None]   # make a pin read `level`
    level: Callable[[int], int]         # the level a pin is driven to
    full_scale: Callable[[], int]       # put the most the ADC reads on A0; what it then reads
    reconnect: Callable[[], BoardClient]  # the client once the board restarted (RESET)
    restarts: Callable[[], int]         # how often the board restarted or stopped so far
    sim: SimBoard | None = None          # the simulated AVR board


def uno_target(sim: SimBoard, client: BoardClient) -> Target:
    """The simulated uno: pins and ADC driven by the simulator."""
    def full_scale() -> int:
        sim.set_adc(0, 5000)
        return 1023

    def reconnect() -> BoardClient:
        client.wait_ready()
        return client
    return Target(client, 62, 7, 9, 4, 2, 14, lambda pin, level: sim.set_pin(UNO_PORTS[pin], level),
                  lambda pin: sim.read_pin(UNO_PORTS[pin])[1], full_scale, reconnect,
                  lambda: sum(1 for e in sim.events if isinstance(e, ResetEvent)), sim)


def emulated_target(running: esp8266host.Running) -> Target:
    """The emulated D1 mini: its pin model is that a read gives the last write; A0 reads 512."""
    def drive(pin: int, level: int) -> None:
        assert running.client.request(f"GPIO_WRITE {pin} {level}")["ok"] == 1

    def level(pin: int) -> int:
        return int(running.client.request(f"GPIO_READ {pin}")["value"])
    window = 512 if running.transport == "wifi_tcp" else 62
    return Target(running.client, window, 4, 5, 16, 4, 17, drive, level, lambda: 512, running.reconnect,
                  lambda: int(running.board.returncode is not None), None)


def start(request: pytest.FixtureRequest, uno: Callable[[], Iterable[tuple[SimBoard, BoardClient]]]
          ) -> Iterator[Target]:
    """The target `request.param` names; `uno()` starts the module's simulated uno."""
    if request.param == "uno":
        for sim, client in uno():
            yield uno_target(sim, client)
    else:
        transport = request.param.split("/")[1]
        for running in esp8266host.start(transport, request.getfixturevalue("esp8266_workspace")):
            yield emulated_target(running)
