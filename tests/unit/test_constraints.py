"""constraints.txt (what `make setup` installs) agrees with pyproject.toml, so a dependency bumped in one
and not the other fails here instead of in an install that cannot resolve."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]


def locked() -> dict[str, str]:
    """name -> version; each line must pin one package once."""
    versions: dict[str, str] = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not name==version"
            assert canonicalize_name(name) not in versions, f"constraints.txt names {name} twice"
            versions[canonicalize_name(name)] = version
    return versions


def declared() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(text) for text in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        requirements += [Requirement(text) for text in extra]
    return [r for r in requirements if canonicalize_name(r.name) != "scones"]  # dev's `scones[plan-testing]`


def test_every_declared_dependency_is_locked_at_a_version_it_allows() -> None:
    versions = locked()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in versions, f"{requirement} is not in constraints.txt: run make lock"
        assert requirement.specifier.contains(versions[name], prereleases=True), (
            f"constraints.txt has {name}=={versions[name]}, pyproject.toml asks for {requirement}: run make lock"
        )
