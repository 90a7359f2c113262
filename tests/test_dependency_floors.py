"""Known advisories: the installed versions, and the floors in pyproject.toml that a fresh
install resolves against, are at or above each fixed release.

pip-audit cannot reach an advisory database from this machine (only package registries
are reachable), so the advisories known to the project are pinned here and checked on
every run. Add a row when an advisory names a dependency, direct or not (starlette comes
with fastapi, so it gets its own floor in pyproject.toml).
"""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"

FIXED_IN = {
    # relay node type confusion, depth limiter recursion on circular fragments, alias
    # limiter bypass via fragments, GraphiQL header leak, websocket leaks
    "strawberry-graphql": "0.327.2",
    # quadratic OverlappingFieldsCanBeMerged, max_tokens bypass via comments
    "graphql-core": "3.3.2",
    # CVE-2024-53861 (issuer checked as a substring), CVE-2026-32597
    "pyjwt": "2.12",
    # CVE-2025-62727 (quadratic Range header parsing in FileResponse / StaticFiles)
    "starlette": "0.49.1",
    # CVE-2024-12797 (the OpenSSL its wheels bundle)
    "cryptography": "44.0.1",
}


def _floors() -> dict[str, Version]:
    """The lowest version each runtime dependency's specifier admits (its `>=` floor)."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    floors: dict[str, Version] = {}
    for line in project["dependencies"]:
        requirement = Requirement(line)
        lows = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==")]
        if lows:
            floors[canonicalize_name(requirement.name)] = max(lows)
    return floors


@pytest.mark.parametrize(("package", "fixed"), sorted(FIXED_IN.items()))
def test_installed_version_has_the_fix(package: str, fixed: str) -> None:
    assert Version(version(package)) >= Version(fixed)


@pytest.mark.parametrize(("package", "fixed"), sorted(FIXED_IN.items()))
def test_declared_floor_excludes_vulnerable_releases(package: str, fixed: str) -> None:
    floor = _floors().get(canonicalize_name(package))
    assert floor is not None, f"{package} has no floor in pyproject.toml"
    assert floor >= Version(fixed), f"{package}>={floor} admits releases before {fixed}"
