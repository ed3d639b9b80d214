"""Marketing consent read from imports: goodwill's own clients file (``marketing_consent``) and
Shopify's "Accepts Email Marketing" / "Accepts Marketing" column, through the command line; an
import may withdraw consent but never undoes an unsubscribe made through the link."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from goodwill.domain.audit import Actor
from goodwill.store.consent import withdraw_marketing
from goodwill.store.models import Client
from tests.cli.test_cli import NOW, goodwill
from tests.store.test_import_profiles import SAMPLES, configuration

AT = datetime.fromisoformat(NOW).astimezone(UTC)


def consent(db_url: str) -> dict[str, tuple[bool | None, datetime | None, str | None]]:
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            return {
                (c.email or c.name): (c.marketing_consent, c.consent_at, c.consent_how)
                for c in session.execute(select(Client)).scalars()
            }
    finally:
        engine.dispose()


def test_the_clients_file_column_sets_consent_and_a_bad_cell_names_the_column(
    tmp_path: Path, db_url: str
) -> None:
    path = tmp_path / "clients.csv"
    path.write_text(
        "name,email,marketing_consent\n"
        "Ann Yes,ann@example.com,yes\n"
        "Bo No,bo@example.com,No\n"
        "Cy Unsaid,cy@example.com,\n"
        "Di Maybe,di@example.com,maybe\n",
        "utf-8",
    )
    done = goodwill("import", "clients", str(path), "--json", db=db_url)
    summary = json.loads(done.stdout)
    (error,) = summary["errors"]
    assert error["column"] == "marketing_consent" and "'maybe' is not yes or no" in error["reason"]
    found = consent(db_url)
    assert found["ann@example.com"] == (True, AT, "import: clients")
    assert found["bo@example.com"] == (False, AT, "import: clients")
    assert found["cy@example.com"] == (None, None, None)
    assert "di@example.com" not in found


def test_shopify_accepts_marketing_is_read_and_an_unsubscribe_by_link_stands(
    tmp_path: Path, db_url: str
) -> None:
    def shopify() -> None:
        done = goodwill(
            "import",
            str(SAMPLES / "shopify.csv"),
            "--profile",
            "shopify",
            "--json",
            db=db_url,
            config=configuration(tmp_path, "shopify"),
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert json.loads(done.stdout)["errors"] == []

    shopify()
    found = consent(db_url)
    assert found["anna.visser@example.nl"] == (True, AT, "import: shopify")
    assert found["lars.dekker@example.com"] == (False, AT, "import: shopify")
    assert found["emma.jansen@example.be"][0] is True
    assert found["Pieter de Vries"][0] is False  # known by name only

    engine = create_engine(db_url)
    try:
        with Session(engine) as session, session.begin():
            anna = session.execute(
                select(Client).where(Client.email == "anna.visser@example.nl")
            ).scalar_one()
            withdraw_marketing(session, anna, now=AT, actor=Actor.anonymous("test"))
    finally:
        engine.dispose()
    shopify()  # the same export again says "yes" for her
    assert consent(db_url)["anna.visser@example.nl"] == (False, AT, "unsubscribe link")
