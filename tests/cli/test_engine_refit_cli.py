"""`goodwill engine run` says whether it refitted the population models, and why."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from goodwill.store.database import open_store
from goodwill.store.models import ModelFit
from tests.cli.test_cli import NOW, goodwill


def test_engine_run_says_the_kept_fit_and_when_it_will_be_refitted(sqlite_url: str) -> None:
    today = datetime.fromisoformat(NOW).date()
    store = open_store(sqlite_url)
    with store.begin() as session:
        session.add(
            ModelFit(
                name="counts",
                model="bg-nbd",
                params={"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5},
                log_likelihood=-1000.0,
                n_customers=200,
                period="week",
                as_of=today - timedelta(days=2),
                fitted_at=datetime.fromisoformat(NOW) - timedelta(days=2),
                basis={"purchases": 1000, "newest_order": None, "reason": "no fit yet"},
            )
        )
    done = goodwill("engine", "run", db=sqlite_url)
    assert done.returncode == 0, done.stderr
    fitted_on = (today - timedelta(days=2)).isoformat()
    due = (today + timedelta(days=5)).isoformat()
    assert done.stdout.splitlines()[-1] == (
        f"population models not refitted: kept the fit of {fitted_on}: 0 new purchases since "
        f"(0.0% of its 1000); refit at 50 or on {due}"
    )
    as_json = json.loads(goodwill("engine", "run", "--json", db=sqlite_url).stdout)
    assert as_json["models"]["refitted"] is False
    assert date.fromisoformat(as_json["models"]["last_fit"]) == today - timedelta(days=2)


def test_engine_run_on_an_empty_store_says_there_is_nothing_to_fit(sqlite_url: str) -> None:
    done = goodwill("engine", "run", db=sqlite_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "population models not refitted: no purchases yet"
