"""The command line as a user meets it: the installed `goodwill` console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from tests.factories import PURCHASE_HEADER, purchase_rows, write_csv

GOODWILL = str(Path(sys.executable).parent / "goodwill")
NOW = "2026-11-23T10:00:00+00:00"


def goodwill(
    *args: str,
    db: str | None = None,
    env: dict[str, str] | None = None,
    config: Path | None = None,
    now: str = NOW,
) -> subprocess.CompletedProcess[str]:
    cmd = [GOODWILL]
    if db:
        cmd += ["--db", db]
    if config:
        cmd += ["--config", str(config)]
    cmd += ["--now", now, *args]
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def test_every_command_documents_an_example() -> None:
    from goodwill.cli.main import app

    click_app = typer.main.get_command(app)

    def walk(command, path):  # type: ignore[no-untyped-def]
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                yield from walk(sub, [*path, name])
        else:
            yield path, command

    missing = [" ".join(p) for p, c in walk(click_app, []) if "Example:" not in (c.help or "")]
    assert missing == []


def test_import_prints_a_json_summary_with_editor_line_numbers(
    tmp_path: Path, sqlite_url: str
) -> None:
    path = tmp_path / "purchases.csv"
    path.write_text(
        "order_id,client_id,occurred_at,amount,product\n"
        '1,C1,2025-01-02,"1,240.00",Grinder\n'
        '2,C1,2025-02-02,"multi\nline note",Beans\n'
        "3,C1,2025-13-02,5,Beans\n"
        "4,C2,2025-03-02,7.50,Cups\n",
        encoding="utf-8",
    )
    done = goodwill("import", "purchases", str(path), "--json", db=sqlite_url)
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["read"], summary["imported"], summary["duplicates"]) == (4, 2, 0)
    assert summary["errors"] == [
        {"line": 3, "column": "amount", "reason": summary["errors"][0]["reason"]},
        {"line": 5, "column": "occurred_at", "reason": summary["errors"][1]["reason"]},
    ]
    assert "not an amount" in summary["errors"][0]["reason"]
    again = json.loads(goodwill("import", "purchases", str(path), "--json", db=sqlite_url).stdout)
    assert (again["imported"], again["duplicates"]) == (0, 2)


def test_a_file_missing_a_required_column_fails_with_one_clear_line(
    tmp_path: Path, sqlite_url: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("invoice,amount\nI1,5\n", encoding="utf-8")
    done = goodwill("import", "payments", str(path), db=sqlite_url)
    assert done.returncode == 2
    assert "bad.csv: line 1: missing column invoice_id" in done.stderr
    assert "Traceback" not in done.stderr


def test_clients_and_the_client_timeline_from_the_terminal(tmp_path: Path, sqlite_url: str) -> None:
    purchases = write_csv(tmp_path / "p.csv", PURCHASE_HEADER, purchase_rows(200, clients=15))
    clients = tmp_path / "c.csv"
    clients.write_text(
        "client_id,name,email,client_since,hometown\n"
        "C00003,Dana Longtime,dana@example.com,2005-06-01,Haarlem\n",
        "utf-8",
    )
    assert goodwill("import", "purchases", str(purchases), db=sqlite_url).returncode == 0
    assert goodwill("import", "clients", str(clients), db=sqlite_url).returncode == 0
    listed = json.loads(
        goodwill("clients", "--json", "--sort", "spend", "--limit", "5", db=sqlite_url).stdout
    )
    assert listed["total"] == 15 and len(listed["clients"]) == 5
    spends = [float(c["total_spend"]) for c in listed["clients"]]
    assert spends == sorted(spends, reverse=True)
    found = goodwill("clients", "--search", "dana", db=sqlite_url)
    # Her purchases stopped in January 2019: a former client, whose tenure stops there too.
    assert "Dana Longtime" in found.stdout and "13 years" in found.stdout
    shown = json.loads(goodwill("client", "show", "C00003", "--json", db=sqlite_url).stdout)
    assert shown["client_since"] == "2005-06-01" and shown["hometown"] == "Haarlem"
    times = [e["occurred_at"] for e in shown["timeline"]]
    assert times == sorted(times, reverse=True)
    assert len(times) == min(50, shown["purchase_count"])  # one page of the timeline
    assert shown["tenure"] == "a client for 13 years, until January 2019"
    text = goodwill("client", "show", "dana@example.com", db=sqlite_url).stdout
    assert "A client for 13 years, until January 2019, since 2005-06-01" in text
    missing = goodwill("client", "show", "nobody", db=sqlite_url)
    assert missing.returncode == 3 and "no client with id 'nobody'" in missing.stderr


def test_named_mapping_profiles_come_from_the_configuration_file(
    tmp_path: Path, sqlite_url: str
) -> None:
    config = tmp_path / "goodwill.toml"
    config.write_text(
        'currency = "EUR"\ndate_order = "mdy"\n'
        '[mappings.till]\n"Receipt" = "order_id"\n"Customer" = "client_id"\n'
        '"Sold on" = "occurred_at"\n"Total" = "amount"\n',
        "utf-8",
    )
    path = tmp_path / "till.csv"
    path.write_text("Receipt,Customer,Sold on,Total\nR1,C1,03/04/2025,9.99\n", "utf-8")
    done = goodwill(
        "import",
        "purchases",
        str(path),
        "--profile",
        "till",
        "--json",
        db=sqlite_url,
        config=config,
    )
    assert json.loads(done.stdout)["imported"] == 1
    shown = json.loads(
        goodwill("client", "show", "C1", "--json", db=sqlite_url, config=config).stdout
    )
    assert shown["first_purchase"].startswith("2025-03-04") and shown["currency"] == "EUR"
    unknown = goodwill(
        "import", "purchases", str(path), "--profile", "nope", db=sqlite_url, config=config
    )
    assert unknown.returncode == 2 and "no such profile" in unknown.stderr
    assert "till" in unknown.stderr


def test_a_bad_configuration_file_is_named_with_its_key(tmp_path: Path, sqlite_url: str) -> None:
    config = tmp_path / "goodwill.toml"
    config.write_text('timezone = "Mars/Olympus"\n', "utf-8")
    done = goodwill("clients", db=sqlite_url, config=config)
    assert done.returncode == 2 and "goodwill.toml: timezone 'Mars/Olympus'" in done.stderr
    config.write_text('colour = "blue"\n', "utf-8")
    done = goodwill("clients", db=sqlite_url, config=config)
    assert "unknown setting 'colour'" in done.stderr


def test_users_are_added_and_get_api_tokens(sqlite_url: str) -> None:
    added = goodwill(
        "user",
        "add",
        "--email",
        "Ann@Shop.example",
        "--name",
        "Ann",
        "--role",
        "owner",
        db=sqlite_url,
        env={"GOODWILL_NEW_PASSWORD": "correct horse"},
    )
    assert added.returncode == 0 and "added owner ann@shop.example" in added.stdout
    again = goodwill(
        "user",
        "add",
        "--email",
        "ann@shop.example",
        "--name",
        "Ann",
        db=sqlite_url,
        env={"GOODWILL_NEW_PASSWORD": "correct horse"},
    )
    assert again.returncode == 4 and "already exists" in again.stderr
    token = goodwill("user", "token", "ann@shop.example", db=sqlite_url)
    assert token.returncode == 0 and token.stdout.strip().startswith("gw_")
    assert "ann@shop.example" in goodwill("user", "list", db=sqlite_url).stdout


def test_init_creates_then_reports_an_up_to_date_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'goodwill.db'}"
    assert "schema upgraded" in goodwill("init", db=url).stdout
    assert "schema is up to date" in goodwill("init", db=url).stdout


def test_the_database_url_comes_from_the_environment_when_not_given(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    done = goodwill("init", env={"GOODWILL_DATABASE_URL": url})
    assert done.returncode == 0 and (tmp_path / "env.db").exists()


@pytest.mark.postgres
def test_the_cli_runs_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    purchases = write_csv(tmp_path / "p.csv", PURCHASE_HEADER, purchase_rows(50, clients=5))
    done = goodwill("import", "purchases", str(purchases), "--json", db=postgres_url)
    assert json.loads(done.stdout)["imported"] == 50
    assert json.loads(goodwill("clients", "--json", db=postgres_url).stdout)["total"] == 5


def test_the_demo_builds_a_business_with_a_today_list(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    built = goodwill("demo", "--no-serve", "--clients", "60", db=url)
    assert built.returncode == 0, built.stderr
    assert "demo business ready" in built.stdout
    listed = json.loads(goodwill("clients", "--json", "--limit", "1", db=url).stdout)
    assert listed["total"] == 61  # the 60 and a new lead who wrote to the shop
    inbox = json.loads(goodwill("inbox", "--json", db=url).stdout)
    assert {c["subject"] for c in inbox} >= {
        "Coffee for our office?",
        "Invoice copy for last month",
    }
    assert any(c["critical_window"] for c in inbox)
    followups = json.loads(goodwill("followups", "--json", db=url).stdout)
    assert followups and all(f["assignee"] for f in followups)
    twenty = json.loads(goodwill("client", "show", "C-0002", "--json", db=url).stdout)
    assert twenty["tenure_years"] >= 19.9
    incidents = json.loads(goodwill("incident", "list", "--json", db=url).stdout)
    cafe = next(i for i in incidents if i["client"] == "C-0002")
    assert cafe["status"] == "open" and cafe["tier"] == 3  # the machine broke before opening
    shown = json.loads(goodwill("incident", "show", str(cafe["id"]), "--json", db=url).stdout)
    offered = [o["name"] for o in shown["options"]]  # a coffee roaster's, never a taxi
    assert "lend a grinder or machine while theirs is repaired" in offered
    assert not [name for name in offered if "taxi" in name or "room" in name]
    assert {i["status"] for i in incidents} == {"open", "resolved", "closed"}
    courier = [i for i in incidents if i["cause"] == "courier lost parcel"]
    assert len(courier) == 3  # three in three weeks: the owner was alerted
    assert "WARNING" not in built.stderr  # the systemic failure is the demo's story, not a fault
    # The welcome, thank-you and birthday touches are goodwill's to send, not on people's lists.
    assert all(f["performer"] == "person" for f in followups)
    sent_by_goodwill = json.loads(
        goodwill("followups", "--json", "--performer", "machine", db=url).stdout
    )
    assert sent_by_goodwill and {f["rule"] for f in sent_by_goodwill} <= {
        "lead-welcome-mail",
        "lead-checking-in",
        "thank-you-first-purchase",
        "birthday-card",
        "birthday-postcard",
    }
