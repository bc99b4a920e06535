"""Fixtures shared by the generator and build tests; the helpers themselves are in helpers.py."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testsupport import esp8266host, helpers, lanes


@pytest.fixture
def definitions_copy(tmp_path: Path) -> Path:
    """A private copy of definitions/ to break or extend."""
    return helpers.copy_definitions(tmp_path / "definitions")


@pytest.fixture(scope="session")
def esp8266_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session's d1_mini sketches are generated (their builds are cached by content)."""
    return tmp_path_factory.mktemp("esp8266")


@pytest.fixture(params=["wifi_tcp", "serial_standard"])
def d1_mini(request: pytest.FixtureRequest, esp8266_workspace: Path) -> Iterator[esp8266host.Running]:
    """The protocol suite's d1_mini selection under the ESP8266 host emulation, on TCP and on UART0."""
    yield from esp8266host.start(request.param, esp8266_workspace)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `slow` every test that builds, compiles or simulates (testsupport/lanes.py)."""
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        fixtures = [defs[-1].func for defs in item._fixtureinfo.name2fixturedefs.values() if defs]
        if lanes.is_slow(item.function, fixtures):
            item.add_marker(pytest.mark.slow)
