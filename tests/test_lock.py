"""uv.lock is the lock of this pyproject.toml, and every file it names has its hash."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def _lock() -> dict[str, Any]:
    return tomllib.loads((ROOT / "uv.lock").read_text())


def _declared() -> set[tuple[str, str, str, frozenset[str]]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = [(line, "") for line in project["dependencies"]]
    for extra, names in project["optional-dependencies"].items():
        lines += [(line, extra) for line in names]
    found = set()
    for line, extra in lines:
        req = Requirement(line)
        spec = str(SpecifierSet(str(req.specifier)))
        found.add((canonicalize_name(req.name), spec, extra, frozenset(req.extras)))
    return found


def test_the_lock_was_made_from_this_pyproject() -> None:
    goodwill = next(p for p in _lock()["package"] if p["name"] == "goodwill")
    locked = set()
    for dist in goodwill["metadata"]["requires-dist"]:
        marker = dist.get("marker", "")
        extra = marker.removeprefix("extra == '").removesuffix("'") if marker else ""
        spec = str(SpecifierSet(dist.get("specifier", "")))
        extras = frozenset(dist.get("extras", []))
        locked.add((canonicalize_name(dist["name"]), spec, extra, extras))
    assert locked == _declared(), "pyproject.toml changed since uv.lock was made: run scripts/lock"


def test_every_locked_file_has_its_hash() -> None:
    packages = [p for p in _lock()["package"] if p["name"] != "goodwill"]
    assert len(packages) > 50
    for package in packages:
        files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        assert files, package["name"]
        assert all(f["hash"].startswith("sha256:") for f in files), package["name"]
