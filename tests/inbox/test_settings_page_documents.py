"""SLA policies and a rota read from the settings page's saved documents (a mapping, no file):
the same parsers as the files, errors naming the settings page and the key, and the file still
winning when the settings name one."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from goodwill.actions.sla_in_force import policies_for, rota_for
from goodwill.domain.calendars import always_open
from goodwill.domain.sla import ClientFacts, Policy
from goodwill.errors import ConfigError
from goodwill.settings import Settings, load_settings
from goodwill.web import sla_words
from goodwill.web.pages.rota_settings import RotaForm, document_from_form, form_from_document
from goodwill.web.pages.sla_settings import form_from_table, table_from_form, where_wrong

TUESDAY = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
SLA: dict[str, Any] = {
    "warn_at": 0.5,
    "policy": [
        {"name": "standard", "calendar": "24/7", "first_response": "8h"},
        {"name": "gold", "tiers": ["gold"], "calendar": "24/7", "first_response": "2h"},
    ],
}
ROTA: dict[str, Any] = {
    "timezone": "Europe/Amsterdam",
    "fallback": "owner@shop.example",
    "rotation": [
        {
            "every": "day",
            "handover": "2026-03-09 09:00",
            "people": ["ana@x.example", "ben@x.example"],
        }
    ],
}


def with_page(**page: Any) -> Settings:
    settings = load_settings(database_url="sqlite://", environ={})
    return dataclasses.replace(settings, page=page)


def test_policies_saved_on_the_page_give_the_targets() -> None:
    policies = policies_for(with_page(sla=SLA))
    assert policies is not None and policies.warn_fraction == 0.5
    gold = ClientFacts("C-1", tier="gold")
    target = policies.target_for(gold, "first", TUESDAY, business=always_open(UTC))
    assert target is not None and (target.policy, target.duration) == ("gold", timedelta(hours=2))


def test_a_rota_saved_on_the_page_says_who_is_on_call() -> None:
    rota = rota_for(with_page(rota=ROTA))
    assert rota is not None
    assert rota.on_call(TUESDAY) == "ben@x.example"  # the second day of turns
    assert rota.fallback == "owner@shop.example"


def test_nothing_saved_and_no_file_means_no_targets_and_no_rota() -> None:
    assert policies_for(with_page()) is None
    assert rota_for(with_page()) is None


def test_a_file_named_in_the_settings_wins_over_the_page(tmp_path: Path) -> None:
    (tmp_path / "sla.toml").write_text('[[policy]]\nname = "file"\nfirst_response = "1h"\n')
    settings = dataclasses.replace(with_page(sla=SLA), sla=tmp_path / "sla.toml")
    policies = policies_for(settings)
    assert policies is not None and [p.name for p in policies.policies] == ["file"]


@pytest.mark.parametrize(
    ("page", "key"),
    [
        ({"sla": {"policy": [{"name": "x", "first_response": "2x"}]}}, "policy[0].first_response"),
        (
            {"sla": {"policy": [{"name": "x"}, {"name": "x", "first_response": "1h"}]}},
            "policy[0].first_response",
        ),
        ({"rota": {**ROTA, "timezone": "Mars/Base"}}, "timezone"),
        (
            {"rota": {**ROTA, "rotation": [{**ROTA["rotation"][0], "every": "month"}]}},
            "rotation[0].every",
        ),
    ],
)
def test_a_wrong_saved_document_names_the_settings_page_and_the_key(
    page: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings = with_page(**page)
        policies_for(settings)
        rota_for(settings)
    assert caught.value.message.startswith(f"settings page: {key}: ")
    assert caught.value.fields == {"file": "settings page", "key": key}


def test_a_parser_error_splits_into_the_table_its_position_and_the_field() -> None:
    with pytest.raises(ConfigError) as caught:
        policies_for(with_page(sla={"policy": [{"name": "a", "first_response": "soon"}]}))
    part, index, field, detail = where_wrong(caught.value)
    assert (part, index, field) == ("policy", 0, "first_response")
    assert detail.startswith("'soon' is not a duration")


def test_a_policy_form_round_trips_through_the_document() -> None:
    typed = {
        "name": " gold ",
        "tiers": "gold, silver,",
        "tags": "",
        "calendar": "24/7",
        "first_response": "2h",
        "next_response": "",
    }
    table = table_from_form("policy", typed)
    assert table == {
        "name": "gold",
        "tiers": ["gold", "silver"],
        "calendar": "24/7",
        "first_response": "2h",
    }
    assert form_from_table("policy", table)["tiers"] == "gold, silver"


def test_a_rota_form_becomes_the_rota_document_and_back() -> None:
    typed = RotaForm(
        {"timezone": "Europe/Amsterdam", "fallback": ""},
        {
            "rotation": [
                {
                    "every": "week",
                    "handover": "2026-01-05T09:00",
                    "people": "ana@x.example, ben@x.example",
                }
            ],
            "override": [],
        },
    )
    document = document_from_form(typed)
    assert document == {
        "timezone": "Europe/Amsterdam",
        "rotation": [
            {
                "every": "week",
                "handover": "2026-01-05 09:00",
                "people": ["ana@x.example", "ben@x.example"],
            }
        ],
        "override": [],
    }
    assert form_from_document(document).rows["rotation"][0]["handover"] == "2026-01-05T09:00"


def test_policies_read_in_words() -> None:
    default = Policy("standard", timedelta(hours=8), None, "24/7")
    gold = Policy(
        "gold",
        timedelta(minutes=90),
        timedelta(hours=1),
        tiers=frozenset({"gold"}),
        clients=frozenset({"C-1"}),
    )
    assert sla_words.applies_words(default) == "Every client no other policy names"
    assert sla_words.applies_words(gold) == "Clients C-1 or clients on the tier gold"
    assert (
        sla_words.target_words(gold.first_response, business=True)
        == "within 1 business hour 30 minutes"
    )
    assert sla_words.target_words(timedelta(hours=8), business=False) == "within 8 hours"
    assert sla_words.target_words(None, business=False) == "no target"
    assert sla_words.days_words({0, 1, 2, 3, 4}) == "Mon–Fri"
    assert sla_words.days_words({0, 2, 5, 6}) == "Mon, Wed, Sat–Sun"
    assert sla_words.days_words(range(7)) == "Every day"
