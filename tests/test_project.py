"""The project's own promises: the layering rule, documented settings and commands."""

from __future__ import annotations

import ast
from pathlib import Path

import typer

import goodwill
from goodwill.settings import SPECS

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "src" / "goodwill"
ADAPTER_LIBRARIES = {
    "sqlalchemy",
    "alembic",
    "fastapi",
    "starlette",
    "typer",
    "rich",
    "uvicorn",
    "aiosmtpd",
    "jinja2",
    "argon2",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_domain_core_does_no_io_and_imports_no_framework() -> None:
    offenders = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in (PACKAGE / "domain").rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in ADAPTER_LIBRARIES
        or (
            name.startswith("goodwill.")
            and not name.startswith(("goodwill.domain", "goodwill.errors"))
        )
    }
    assert offenders == set()


def test_the_library_never_imports_its_adapters() -> None:
    inner = [p for d in ("domain", "actions", "store") for p in (PACKAGE / d).rglob("*.py")]
    offenders = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in inner
        for name in imported_modules(path)
        if name.startswith(("goodwill.cli", "goodwill.web"))
    }
    assert offenders == set()


def test_the_public_api_is_declared() -> None:
    assert set(goodwill.__all__) <= set(dir(goodwill))
    assert "GoodwillError" in goodwill.__all__


def test_every_setting_is_documented() -> None:
    docs = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert [s.key for s in SPECS if f"`{s.key}`" not in docs] == []


def test_every_command_is_in_the_readme() -> None:
    from goodwill.cli.main import app

    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    def paths(command, prefix):  # type: ignore[no-untyped-def]
        subcommands = getattr(command, "commands", None)
        if not subcommands:
            yield " ".join(prefix)
            return
        for name, sub in subcommands.items():
            if not sub.hidden:  # `goodwill import FILE` runs the hidden `file` command
                yield from paths(sub, [*prefix, name])

    missing = [p for p in paths(typer.main.get_command(app), ["goodwill"]) if p not in readme]
    assert missing == []
