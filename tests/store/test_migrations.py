"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL, and
take it back down to nothing."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.orm import Session, sessionmaker

from goodwill.store.client_search import TRIGRAM_INDEXES
from goodwill.store.database import alembic_config
from goodwill.store.models import Base


def test_the_migrated_schema_is_the_models_schema(store: sessionmaker[Session]) -> None:
    engine = store.kw["bind"]

    def declared(item: object, name: str | None, kind: str, reflected: bool, *_: object) -> bool:
        return not (kind == "index" and name in TRIGRAM_INDEXES)  # PostgreSQL's own, below

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": declared})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    indexes = {i["name"] for i in inspect(engine).get_indexes("orders")}
    assert "ix_orders_client_time_amount" in indexes
    trigrams = {
        i["name"]
        for table in ("clients", "client_identities")
        for i in inspect(engine).get_indexes(table)
        if i["name"] in TRIGRAM_INDEXES
    }
    assert trigrams == (set(TRIGRAM_INDEXES) if engine.dialect.name == "postgresql" else set())


def test_every_migration_goes_down_again(store: sessionmaker[Session]) -> None:
    engine = store.kw["bind"]
    command.downgrade(alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
