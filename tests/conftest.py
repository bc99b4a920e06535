"""Fixtures shared by the generator and build tests; the helpers themselves are in helpers.py."""
from __future__ import annotations

from pathlib import Path

import pytest

from testsupport import helpers


@pytest.fixture
def definitions_copy(tmp_path: Path) -> Path:
    """A private copy of definitions/ to break or extend."""
    return helpers.copy_definitions(tmp_path / "definitions")
