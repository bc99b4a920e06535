"""Fixtures shared by the generator and build tests; the helpers themselves are in helpers.py."""
from __future__ import annotations

from pathlib import Path

import pytest

import helpers  # noqa: F401 - puts the project root on sys.path for `import generator`


@pytest.fixture
def definitions_copy(tmp_path: Path) -> Path:
    """A private copy of definitions/ to break or extend."""
    return helpers.copy_definitions(tmp_path / "definitions")
