"""The store's pool and lock waits come from the `database` setting; a wrong value is refused
naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from goodwill.errors import ConfigError
from goodwill.settings import load_settings
from goodwill.store.database import make_engine


def test_the_database_setting_sizes_the_pool_and_the_sqlite_lock_wait(tmp_path: Path) -> None:
    config = tmp_path / "goodwill.toml"
    config.write_text("[database]\npool_size = 2\nmax_overflow = 1\nbusy_timeout = 0.25\n", "utf-8")
    settings = load_settings(
        config_path=config, database_url=f"sqlite:///{tmp_path / 'g.db'}", environ={}
    )
    assert settings.database == {
        "pool_size": 2,
        "max_overflow": 1,
        "pool_timeout": 3.0,
        "busy_timeout": 0.25,
    }
    engine = make_engine(settings.database_url, settings.database)
    assert isinstance(engine.pool, QueuePool)
    assert (engine.pool.size(), engine.pool._max_overflow, engine.pool._timeout) == (2, 1, 3.0)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA busy_timeout")).scalar_one() == 250
    engine.dispose()


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[database]\npool_size = "many"\n', "database.pool_size"),
        ("[database]\npool_timeout = -1\n", "database.pool_timeout"),
        ("[database]\nsize = 3\n", "database"),
        ("[imports]\nmax_rows = 1.5\n", "imports.max_rows"),
    ],
)
def test_a_wrong_database_or_imports_value_is_refused_naming_the_key(
    tmp_path: Path, toml: str, key: str
) -> None:
    config = tmp_path / "goodwill.toml"
    config.write_text(toml, "utf-8")
    with pytest.raises(ConfigError) as refused:
        load_settings(config_path=config, database_url="sqlite://", environ={})
    assert refused.value.fields["key"] == key


@pytest.mark.postgres
def test_postgresql_connections_run_without_jit_unless_the_url_says(postgres_url: str) -> None:
    """Pages' statements are short: compiling them took longer than running them."""
    engine = make_engine(postgres_url)
    with engine.connect() as connection:
        assert connection.execute(text("SHOW jit")).scalar_one() == "off"
    engine.dispose()
    own = make_engine(postgres_url + "?options=-c%20jit%3Don%20-c%20work_mem%3D8MB")
    with own.connect() as connection:
        assert connection.execute(text("SHOW jit")).scalar_one() == "on"
        assert connection.execute(text("SHOW work_mem")).scalar_one() == "8MB"
    own.dispose()
