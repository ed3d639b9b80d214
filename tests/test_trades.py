"""Each trade is offered the options and reads the stakes in its own words: a coffee roaster is
offered a grinder on loan, never a taxi; a hotel a room elsewhere; software a fix and a call."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from goodwill.actions.incidents import recovery_files, trade_words
from goodwill.domain.stakes import Assessment, IncidentContext, assess
from goodwill.domain.trades import KINDS
from goodwill.errors import ConfigError
from goodwill.settings import Settings, load_settings

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
#: Words of travel and lodging that have no place in a shop's, a café's or a software house's care.
TRAVEL = re.compile(r"\b(taxi|room|flight|hotel|rental|rebook)", re.IGNORECASE)


def settings(kind: str) -> Settings:
    return Settings(database_url="sqlite://", business_kind=kind)


def assessed(kind: str, what: str, message: str = "", *, hours: float | None = None) -> Assessment:
    weights, catalog = recovery_files(settings(kind))
    context = IncidentContext(
        what=what,
        message=message or None,
        now=NOW,
        deadline=None if hours is None else NOW + timedelta(hours=hours),
        currency="EUR",
    )
    return assess(context, weights, catalog)


def names(result: Assessment) -> list[str]:
    return [o.name for o in result.options]


def test_a_coffee_roasters_shop_is_offered_a_courier_and_a_grinder_on_loan() -> None:
    result = assessed(
        "shop",
        "the grinder arrived with a cracked hopper",
        "The grinder is broken and I have people over for my birthday.",
        hours=20,
    )
    assert result.tier == 2
    assert "courier a replacement today" in names(result)
    assert "lend a grinder or machine while theirs is repaired" in names(result)
    assert not [o for o in result.options if TRAVEL.search(f"{o.name} {o.option.description}")]


@pytest.mark.parametrize(
    "what", ["the courier lost the parcel", "a 1 kg bag arrived ground instead of whole beans"]
)
def test_a_lost_or_wrong_parcel_is_sent_again(what: str) -> None:
    assert names(assessed("shop", what))[0] == "send the right one again"


def test_a_shop_keeps_the_item_and_gets_its_money_back_when_the_make_good_is_a_refund() -> None:
    _, catalog = recovery_files(settings("shop"))
    assert "refund and keep it" in [o.name for o in catalog.options if o.refund]


def test_a_cafe_is_offered_a_fresh_one_on_the_house_and_the_next_visit() -> None:
    result = assessed(
        "cafe",
        "the latte came with cow's milk, not the oat milk they asked for: the wrong order",
        "It was our anniversary and the evening was spoilt.",
        hours=1,
    )
    assert result.tier == 2
    assert names(result)[:1] == ["a fresh one on the house"]
    assert "the next visit on us" in names(result)


def test_a_bed_and_breakfast_is_offered_rooms_cars_and_taxis() -> None:
    result = assessed(
        "hospitality",
        "the booking site gave the wrong pick-up address for the rental car",
        "I am stranded, there is no car here and my flight leaves in 3 hours.",
        hours=3,
    )
    assert result.tier == 3
    assert "find the client a car" in names(result)
    assert "pay for a taxi or another car" in names(result)


def test_software_is_offered_a_fix_a_call_and_the_clients_data() -> None:
    result = assessed(
        "software",
        "the invoice export is broken since the update",
        "We cannot export our invoices and our month-end closes on Friday.",
        hours=40,
    )
    assert result.tier == 2
    assert {"a fix this week and a call", "export their data for them"} <= set(names(result))
    assert "extend the subscription" in names(result)
    assert "a month-end is at stake" in [f.text for f in result.factors]


def test_an_agency_redoes_the_work_and_hands_it_to_someone_senior() -> None:
    result = assessed(
        "services",
        "we mixed up the prices on the printed brochures",
        "The trade show opens on Thursday.",
        hours=50,
    )
    assert "redo the work at no cost" in names(result)
    assert "a senior person takes it over" in names(result)


def test_a_cafe_whose_machine_broke_gets_a_technician_from_its_wholesaler() -> None:
    result = assessed(
        "wholesale",
        "the espresso machine we supplied shows a pressure error",
        "We cannot serve coffee and we open at 10.",
        hours=2,
    )
    assert "a technician on site today" in names(result)
    assert "lend a grinder or machine while theirs is repaired" in names(result)


@pytest.mark.parametrize("kind", ["shop", "cafe", "software", "services", "wholesale"])
def test_no_trade_but_travel_and_lodging_is_ever_offered_a_taxi_a_room_or_a_flight(
    kind: str,
) -> None:
    _, catalog = recovery_files(settings(kind))
    words = trade_words(settings(kind))
    said = [f"{o.name}: {o.description}" for o in catalog.options]
    said += [words.what, words.message, words.restatement]
    assert [s for s in said if TRAVEL.search(s)] == []


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_ships_a_catalog_with_words_and_a_stakes_lexicon(kind: str) -> None:
    weights, catalog = recovery_files(settings(kind))
    words = trade_words(settings(kind))
    assert len(catalog.options) >= 8 and words.stakes
    assert dict(weights.stakes_words) == dict(words.stakes)
    assert all([words.what, words.cause, words.message, words.restatement])


def test_the_stakes_words_follow_the_trade() -> None:
    shop = assessed("shop", "the beans came late", "We have our opening day and my flight is at 6.")
    hotel = assessed("hospitality", "the beans came late", "My flight is at 6.")
    assert [f.text for f in shop.factors if f.key == "stakes"] == ["an opening day is at stake"]
    assert [f.text for f in hotel.factors if f.key == "stakes"] == ["a flight is at stake"]


def test_a_catalog_of_ones_own_wins_over_the_kinds_and_may_bring_its_words(
    tmp_path: Path,
) -> None:
    own = tmp_path / "catalog.toml"
    own.write_text(
        '[words]\nwhat = "The bike came with a flat tyre"\n\n'
        "[words.stakes]\nrace = 3.0\n\n"
        '[[option]]\nname = "pump it up"\ncost = "0"\ntiers = [1, 2, 3]\n',
        "utf-8",
    )
    mine = replace(
        settings("shop"), recovery={"systemic_count": 3, "systemic_days": 30, "catalog": own}
    )
    weights, catalog = recovery_files(mine)
    assert [o.name for o in catalog.options] == ["pump it up"]
    words = trade_words(mine)
    assert words.what == "The bike came with a flat tyre"
    assert words.cause == trade_words(settings("shop")).cause  # not given: the kind's
    assert dict(weights.stakes_words) == {"race": 3.0}


# -- the setting ------------------------------------------------------------------------------


def test_the_business_kind_is_other_unless_the_file_or_the_environment_says(
    tmp_path: Path,
) -> None:
    config = tmp_path / "goodwill.toml"
    assert load_settings(config_path=None, environ={}).business_kind == "other"
    config.write_text('business_kind = "Cafe"\n', "utf-8")
    assert load_settings(config_path=config, environ={}).business_kind == "cafe"
    env = {"GOODWILL_BUSINESS_KIND": "software"}
    assert load_settings(config_path=config, environ=env).business_kind == "software"


@pytest.mark.parametrize("value", ['"travel agency"', "3", '""'])
def test_a_wrong_business_kind_names_the_key_and_the_kinds(tmp_path: Path, value: str) -> None:
    config = tmp_path / "goodwill.toml"
    config.write_text(f"business_kind = {value}\n", "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_path=config, environ={})
    assert caught.value.fields["key"] == "business_kind"
    assert "shop, cafe, hospitality, services, software, wholesale, other" in str(caught.value)
