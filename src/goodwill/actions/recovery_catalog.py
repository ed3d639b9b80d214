"""The recovery options catalog in force, and the words of the business's trade.

Three places can hold the catalog, in falling priority: a file the ``recovery.catalog`` setting
names (so a deployment kept in version control stays what its file says), the options the owner
saved on the settings page (``settings.page["recovery_options"]``, in the file's shape), and the
catalog shipped for the business kind (``defaults/recovery/<kind>.toml``). The kind's ``[words]``
(the form's examples, the stakes words) stay unless the catalog in force carries its own.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from goodwill.domain.recovery_options import Catalog, parse_catalog
from goodwill.domain.trades import DEFAULT_KIND, KINDS, TradeWords, parse_words
from goodwill.errors import ConfigError
from goodwill.settings import Settings

#: The settings-page key holding the owner's catalog.
PAGE_KEY = "recovery_options"
#: What page values carry in error messages, where a file's path would be.
PAGE_SOURCE = "settings page"

Where = Literal["file", "page", "shipped"]


def read_toml(path: Path, kind: str) -> dict[str, Any]:
    """A TOML file the settings name; errors say which file and what is wrong with it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read {kind} file ({exc.strerror})", file=str(path)
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", file=str(path)) from exc


@cache
def _shipped_document(kind: str) -> Mapping[str, Any]:
    if kind not in KINDS:
        raise ConfigError(f"business_kind must be one of {', '.join(KINDS)}", key="business_kind")
    name = f"defaults/recovery/{kind}.toml"
    return tomllib.loads(resources.files("goodwill").joinpath(name).read_text("utf-8"))


@cache
def _shipped(kind: str) -> tuple[Catalog, TradeWords]:
    data = _shipped_document(kind)
    source = f"shipped {kind} recovery catalog"
    return parse_catalog(data, source=source), parse_words(data.get("words", {}), source=source)


def shipped_document(kind: str) -> dict[str, Any]:
    """The catalog shipped for ``kind`` as the TOML file holds it (a copy: safe to change)."""
    return copy.deepcopy(dict(_shipped_document(kind)))


@dataclass(frozen=True)
class CatalogInForce:
    """Where the catalog in force comes from, and its document in the TOML file's shape."""

    where: Where
    document: Mapping[str, Any]
    path: Path | None = None

    @property
    def source(self) -> str:
        """How error messages name it."""
        if self.path is not None:
            return str(self.path)
        return PAGE_SOURCE if self.where == "page" else "shipped recovery catalog"


def catalog_in_force(settings: Settings, *, path: Path | None = None) -> CatalogInForce:
    """``path`` when given, else the ``recovery.catalog`` file, else the page's options, else
    the kind's shipped catalog."""
    path = path or settings.recovery.get("catalog")
    if path is not None:
        return CatalogInForce("file", read_toml(Path(path), "catalog"), Path(path))
    saved = settings.page.get(PAGE_KEY)
    if isinstance(saved, Mapping) and saved:
        return CatalogInForce("page", saved)
    return CatalogInForce("shipped", _shipped_document(settings.business_kind))


def load_catalog(path: Path | None, *, kind: str = DEFAULT_KIND) -> Catalog:
    """The options catalog file; None: the one shipped for the business kind."""
    if path is not None:
        return parse_catalog(read_toml(path, "catalog"), source=str(path))
    return _shipped(kind)[0]


def catalog_of(settings: Settings, *, path: Path | None = None) -> Catalog:
    """The catalog in force (:func:`catalog_in_force`), parsed."""
    found = catalog_in_force(settings, path=path)
    if found.where == "shipped":
        return _shipped(settings.business_kind)[0]
    return parse_catalog(found.document, source=found.source)


def trade_words(settings: Settings) -> TradeWords:
    """The words of the business's trade: the kind's, with the catalog's own ``[words]`` over
    them (so an owner's catalog can carry the examples and stakes words that go with it)."""
    words = _shipped(settings.business_kind)[1]
    found = catalog_in_force(settings)
    own = found.document.get("words") if found.where != "shipped" else None
    if not own:
        return words
    mine = parse_words(own, source=found.source)
    texts = {k: getattr(mine, k) for k in ("what", "cause", "message", "restatement")}
    return replace(
        words,
        stakes=mine.stakes or words.stakes,
        **{k: v for k, v in texts.items() if k in own},
    )


__all__ = [
    "PAGE_KEY",
    "CatalogInForce",
    "catalog_in_force",
    "catalog_of",
    "load_catalog",
    "read_toml",
    "shipped_document",
    "trade_words",
]
