"""The SLA policies and on-call rota in force: the file named in the settings, else the ones
saved on the settings page, else none.

Files are read again only when they change, so every arriving message can ask cheaply.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from goodwill.domain.rota import Rota, parse_rota
from goodwill.domain.sla import SlaPolicies, parse_policies
from goodwill.errors import ConfigError
from goodwill.settings import Settings

#: Where errors in SLA policies or a rota saved on the settings page say they come from.
PAGE_SOURCE = "settings page"


def policies_for(settings: Settings) -> SlaPolicies | None:
    """The SLA policies in force: the ``sla`` file when set (the file wins), else the ones saved
    on the settings page, else None (no response targets)."""
    if settings.sla:
        return _policies(settings.sla, _mtime(settings.sla))
    saved = settings.page.get("sla")
    return parse_policies(saved, source=PAGE_SOURCE) if saved is not None else None


def rota_for(settings: Settings) -> Rota | None:
    """The on-call rota in force: the ``rota`` file when set, else the page's, else None."""
    if settings.rota:
        return _rota(settings.rota, _mtime(settings.rota))
    saved = settings.page.get("rota")
    return parse_rota(saved, source=PAGE_SOURCE) if saved is not None else None


def _mtime(path: Path | None) -> float:
    try:
        return path.stat().st_mtime if path else 0.0
    except OSError:
        return 0.0


@lru_cache(maxsize=8)
def _policies(path: Path, _mtime: float) -> SlaPolicies:
    return parse_policies(_toml(path), source=str(path))


@lru_cache(maxsize=8)
def _rota(path: Path, _mtime: float) -> Rota:
    return parse_rota(_toml(path), source=str(path))


def _toml(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})", file=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", file=str(path)) from exc
