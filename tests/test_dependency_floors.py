"""Known advisories: the installed versions are at or above each fixed release.

pip-audit cannot reach an advisory database from this machine (only package registries
are reachable), so the advisories known to the project are pinned here and checked on
every run. Source: shared design notes, reliability.md ("Advisories: minimum versions").
"""

from __future__ import annotations

from importlib.metadata import version

import pytest
from packaging.version import Version

FIXED_IN = {
    # relay node type confusion, depth limiter recursion on circular fragments, alias
    # limiter bypass via fragments, GraphiQL header leak, websocket leaks
    "strawberry-graphql": "0.327.2",
    # quadratic OverlappingFieldsCanBeMerged, max_tokens bypass via comments
    "graphql-core": "3.3.2",
}


@pytest.mark.parametrize(("package", "fixed"), sorted(FIXED_IN.items()))
def test_installed_version_has_the_fix(package: str, fixed: str) -> None:
    assert Version(version(package)) >= Version(fixed)
