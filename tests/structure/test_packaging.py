"""Issue 18 case 8: the package states ranges of its dependencies (pyproject.toml), which a
user's PlatformIO Python can meet beside other packages; the exact versions the tests ran with
are pinned in requirements-generator.txt, and each pin lies inside its range."""
from __future__ import annotations

import tomllib

from packaging.requirements import Requirement

from generator.paths import ROOT


def test_dependencies_are_ranges_and_the_pins_fit_them() -> None:
    declared = [Requirement(text) for text in
                tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]]
    pins = {Requirement(line).name.lower(): Requirement(line) for line in
            (ROOT / "requirements-generator.txt").read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")}
    assert set(pins) <= {r.name.lower() for r in declared}
    for requirement in declared:
        assert not any(spec.operator == "==" for spec in requirement.specifier), requirement
        if requirement.name.lower() in pins:
            pinned = next(iter(pins[requirement.name.lower()].specifier))
            assert pinned.operator == "==" and requirement.specifier.contains(pinned.version), (requirement, pinned)
