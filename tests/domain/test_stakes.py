"""Stakes, tiers and options: each factor, the weights as configuration, DESIGN.md's stories."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goodwill.domain.recovery_options import Catalog, parse_catalog, recommend
from goodwill.domain.stakes import (
    Assessment,
    IncidentContext,
    Weights,
    assess,
    factors,
    parse_weights,
    situations,
)
from goodwill.errors import ConfigError, InvalidInput

CATALOG_FILE = (
    Path(__file__).parents[2] / "src" / "goodwill" / "defaults" / "recovery" / "hospitality.toml"
)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
WEIGHTS = Weights()


def shipped_catalog() -> Catalog:
    return parse_catalog(tomllib.loads(CATALOG_FILE.read_text("utf-8")), source="recovery.toml")


CATALOG = shipped_catalog()


def incident(what: str = "the order was late", **known: Any) -> IncidentContext:
    return IncidentContext(what=what, now=NOW, currency="USD", **known)


def points(context: IncidentContext, key: str, weights: Weights = WEIGHTS) -> float:
    return sum(f.points for f in factors(context, weights) if f.key == key)


def texts(result: Assessment) -> list[str]:
    return [f.text for f in result.factors]


# -- each factor ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "expected"),
    [(0.5, 5.0), (3, 5.0), (8, 4.0), (20, 3.0), (48, 1.5), (100, 0.5), (200, 0.0), (-2, 5.0)],
)
def test_time_pressure_falls_as_the_deadline_moves_away(hours: float, expected: float) -> None:
    context = incident(deadline=NOW + timedelta(hours=hours))
    assert points(context, "time") == expected


def test_the_time_factor_names_the_event_at_stake() -> None:
    context = incident(
        "the rental car was not there", message="my flight", deadline=NOW + timedelta(hours=3)
    )
    assert "the flight departs in 3 hours" in [f.text for f in factors(context, WEIGHTS)]
    plain = incident(deadline=NOW + timedelta(minutes=40))
    assert "the client's deadline is in 40 minutes" in [f.text for f in factors(plain, WEIGHTS)]
    missed = incident(message="my interview", deadline=NOW - timedelta(hours=2))
    assert "the interview was 2 hours ago" in [f.text for f in factors(missed, WEIGHTS)]


def test_stakes_words_count_in_any_word_form_from_both_accounts() -> None:
    assert points(incident("we ruined the wedding cake"), "stakes") == 4.0
    assert points(incident(message="two weddings this month"), "stakes") == 4.0
    assert points(incident(message="I'm about to meet the interviewer"), "stakes") == 3.0
    assert points(incident(message="Our product LAUNCHED today"), "stakes") == 3.0
    assert points(incident(message="I am a pilot"), "stakes") == 0.0
    assert points(incident("the flight attendant was rude"), "stakes") == 0.0
    assert points(incident("the flight attendant was rude", message="my flight"), "stakes") == 3.0
    said = [f.text for f in factors(incident(message="our anniversary"), WEIGHTS)]
    assert "an anniversary is at stake" in said


def test_stakes_together_are_capped() -> None:
    context = incident(message="the wedding, the funeral and the surgery, all this week")
    assert points(context, "stakes") == WEIGHTS.stakes_max


def test_a_stranded_client_is_inferred_from_their_words_unless_staff_say_otherwise() -> None:
    said = incident(message="I'm at the address. There is no car and I can’t get to the airport.")
    reasons = [f for f in factors(said, WEIGHTS) if f.key == "stranded"]
    assert [r.points for r in reasons] == [4.0]
    assert reasons[0].text == 'the client is stranded or blocked right now: "There is no car"'
    assert "stranded" in situations(said, WEIGHTS)
    assert points(incident(message="I'm locked out"), "stranded") == 4.0
    assert points(incident(message="No car, stranded", stranded=False), "stranded") == 0.0
    assert points(incident(stranded=True), "stranded") == 4.0


def test_scarcity_quotes_the_clients_own_clause() -> None:
    context = incident(message="We paid. The whole town is fully booked this weekend, sadly.")
    reasons = [f for f in factors(context, WEIGHTS) if f.key == "scarcity"]
    assert [(r.text, r.points) for r in reasons] == [
        ('alternatives are scarce: "The whole town is fully booked this weekend"', 2.0)
    ]
    assert points(incident(message="the last one in town"), "scarcity") == 2.0


def test_a_mistake_landing_on_the_client_counts_as_harm() -> None:
    assert points(incident("coffee spilled on the client's dress"), "harm") == 1.5
    assert points(incident("coffee spilled in the kitchen"), "harm") == 0.0


def test_tenure_counts_per_year_up_to_a_cap() -> None:
    assert points(incident(tenure_years=5.5), "tenure") == 1.1
    assert points(incident(tenure_years=40), "tenure") == WEIGHTS.tenure_max
    assert [f.text for f in factors(incident(tenure_years=12.3), WEIGHTS)] == [
        "a client for 12 years"
    ]
    assert [f.text for f in factors(incident(tenure_years=0.5), WEIGHTS)] == [
        "a client for 6 months"
    ]
    assert points(incident(tenure_years=None), "tenure") == 0.0


def test_value_counts_per_reference_amount_up_to_a_cap() -> None:
    assert points(incident(yearly_value=Decimal(500)), "value") == 0.5
    assert points(incident(yearly_value=Decimal(90000)), "value") == WEIGHTS.value_max
    said = [f.text for f in factors(incident(yearly_value=Decimal(2400)), WEIGHTS)]
    assert said == ["worth about 2,400.00 USD a year"]


def test_a_low_p_alive_marks_a_client_at_risk() -> None:
    assert points(incident(p_alive=0.3), "at_risk") == 2.0
    assert points(incident(p_alive=0.9), "at_risk") == 0.0
    assert points(incident(p_alive=None), "at_risk") == 0.0


def test_the_cost_counts_relative_to_the_clients_value_when_known() -> None:
    small = incident(cost=Decimal(50), yearly_value=Decimal(1000))
    assert points(small, "cost") == 0.1
    assert "the mistake cost 50.00 USD, 5% of what the client spends in a year" in [
        f.text for f in factors(small, WEIGHTS)
    ]
    assert points(incident(cost=Decimal(5000), yearly_value=Decimal(1000)), "cost") == 2.0
    assert points(incident(cost=Decimal(250)), "cost") == 1.0  # against the 500 reference


def test_earlier_incidents_add_up_to_a_cap() -> None:
    assert points(incident(earlier_incidents=1), "repeat") == 1.5
    assert points(incident(earlier_incidents=5), "repeat") == WEIGHTS.repeat_max
    said = [f.text for f in factors(incident(earlier_incidents=2), WEIGHTS)]
    assert said == ["2 earlier incidents with this client"]


def test_a_partners_mistake_is_ours_and_listed_even_at_zero_points() -> None:
    context = incident(ours=False, partner="TripDesk")
    assert [(f.text, f.points) for f in factors(context, WEIGHTS)] == [
        ("a partner's mistake (TripDesk) is treated as ours", 0.5)
    ]
    free = Weights(partner_points=0.0)
    assert [f.key for f in factors(incident(ours=False), free)] == ["partner"]
    assert "partner" in situations(context, WEIGHTS)


def test_a_partner_named_on_our_own_mistake_is_refused() -> None:
    with pytest.raises(InvalidInput):
        incident(partner="TripDesk")
    with pytest.raises(InvalidInput):
        IncidentContext(what="x", now=NOW.replace(tzinfo=None), currency="USD")
    with pytest.raises(InvalidInput):
        incident(p_alive=1.5)


# -- score, tiers, weights as configuration ---------------------------------------------------


def test_the_score_is_the_sum_of_the_factors_and_the_tier_follows_the_thresholds() -> None:
    context = incident(
        message="we have a meeting", deadline=NOW + timedelta(hours=20), tenure_years=3
    )
    result = assess(context, WEIGHTS, CATALOG)
    assert result.score == pytest.approx(3.0 + 2.0 + 0.6)
    assert result.score == pytest.approx(sum(f.points for f in result.factors))
    assert result.tier == 2 and result.authority == "staff"
    strict = Weights(make_good_from=6.0, rescue_from=10.0)
    assert assess(context, strict, CATALOG).tier == 1
    lenient = Weights(make_good_from=1.0, rescue_from=5.0)
    assert assess(context, lenient, CATALOG).tier == 3


def test_weights_come_from_toml_over_the_defaults() -> None:
    data = tomllib.loads(
        """
        [tiers]
        make_good = 3
        rescue = 6.5
        [time]
        steps = [[2, 6], [24, 2]]
        [stakes.words]
        recital = 3.5
        wedding = 0
        [stranded]
        add_words = ["no taxi"]
        [value]
        reference = "250"
        """
    )
    weights = parse_weights(data, source="weights.toml")
    assert (weights.make_good_from, weights.rescue_from) == (3.0, 6.5)
    assert weights.time_steps == ((2.0, 6.0), (24.0, 2.0))
    assert weights.stakes_words["recital"] == 3.5 and weights.stakes_words["flight"] == 3.0
    assert "no taxi" in weights.stranded_words and "stranded" in weights.stranded_words
    assert weights.value_reference == Decimal(250)
    assert weights.tenure_per_year == WEIGHTS.tenure_per_year
    assert points(incident(message="my daughter's recital"), "stakes", weights) == 3.5
    assert points(incident(message="my wedding"), "stakes", weights) == 0.0
    assert points(incident(message="there is no taxi here"), "stranded", weights) == 4.0
    assert points(incident(deadline=NOW + timedelta(hours=1)), "time", weights) == 6.0


def docs_toml(heading: str) -> dict[str, Any]:
    docs = (Path(__file__).parents[2] / "docs" / "recovery.md").read_text("utf-8")
    block = docs.split(f"## {heading}", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    return tomllib.loads(block)


def test_the_documented_weights_are_the_defaults() -> None:
    documented = parse_weights(docs_toml("Changing the weights"), source="docs")
    words = {**WEIGHTS.stakes_words, "recital": 3.5, "board meeting": 3.0}
    expected = replace(
        WEIGHTS, stakes_words=words, stranded_words=(*WEIGHTS.stranded_words, "no taxi")
    )
    assert documented == expected


def test_the_documented_catalog_parses() -> None:
    catalog = parse_catalog(docs_toml("The options catalog"), source="docs")
    assert [o.name for o in catalog.options] == [
        "refer to a competitor who has it in stock",
        "find the client a car",
    ]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[tier]\nmake_good = 1", "tier"),
        ("[tiers]\nmakegood = 1", "tiers.makegood"),
        ("[tiers]\nmake_good = -1", "tiers.make_good"),
        ("[tiers]\nmake_good = 9\nrescue = 8", "tiers.rescue"),
        ("[time]\nsteps = [[12, 1], [3, 2]]", "time.steps"),
        ('[stakes.words]\nflight = "high"', "stakes.words.flight"),
        ("[stranded]\nwords = 3", "stranded.words"),
        ("[value]\nreference = 0", "value.reference"),
        ("[at_risk]\nbelow = 2", "at_risk.below"),
    ],
)
def test_a_wrong_weights_file_names_the_file_and_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_weights(tomllib.loads(text), source="weights.toml")
    assert caught.value.message.startswith(f"weights.toml: {key}: ")
    assert caught.value.fields == {"file": "weights.toml", "key": key}


# -- the catalog ------------------------------------------------------------------------------


def test_the_shipped_catalog_covers_the_situations_with_free_options_at_every_tier() -> None:
    options = CATALOG.options
    assert len(options) >= 12
    assert all(any(o.free and t in o.tiers for o in options) for t in (1, 2, 3))
    assert {"stranded", "out_of_stock", "late", "damaged", "wrong_item", "partner"} <= {
        s for o in options for s in o.fits
    }
    assert all(o.tiers == {3} for o in options if o.authority == "owner")


def test_options_needing_the_owner_are_offered_at_tier_3_only() -> None:
    found = frozenset({"any"})
    names = {t: [o.name for o in recommend(CATALOG, t, found)] for t in (1, 2, 3)}
    assert "a call from the owner" not in names[1] + names[2]
    assert "a call from the owner" in names[3]


def test_a_refund_costs_what_the_client_paid() -> None:
    offers = recommend(CATALOG, 2, frozenset({"any"}), order_value=Decimal("154"))
    assert [o.cost for o in offers if o.name == "refund"] == [Decimal("154")]
    unknown = recommend(CATALOG, 2, frozenset({"any"}))
    assert [o.as_dict()["cost"] for o in unknown if o.name == "refund"] == [None]


def test_when_no_fitting_option_is_free_a_free_one_is_added() -> None:
    catalog = parse_catalog(
        {
            "option": [
                {"name": "taxi", "cost": "80", "tiers": [1, 2, 3], "fits": ["stranded"]},
                {"name": "sorry", "cost": "0", "tiers": [1, 2, 3], "fits": ["late"]},
            ]
        },
        source="c.toml",
    )
    offers = recommend(catalog, 1, frozenset({"any", "stranded"}))
    assert [(o.name, o.cost) for o in offers] == [("taxi", Decimal(80)), ("sorry", Decimal(0))]


@pytest.mark.parametrize(
    ("option", "key"),
    [
        ({"name": "x", "cost": "0", "tiers": [1, 2, 3], "colour": "red"}, "colour"),
        ({"name": "x", "cost": "cheap", "tiers": [1, 2, 3]}, "cost"),
        ({"name": "x", "cost": "0", "tiers": [4]}, "tiers"),
        ({"name": "x", "cost": "0", "tiers": [1, 2, 3], "fits": ["rainy"]}, "fits"),
        ({"name": "x", "cost": "0", "tiers": [2, 3], "authority": "owner"}, "tiers"),
        ({"name": "x", "cost": "0", "tiers": [1, 2, 3], "authority": "boss"}, "authority"),
    ],
)
def test_a_wrong_catalog_names_the_file_the_option_and_the_key(
    option: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_catalog({"option": [option]}, source="recovery.toml")
    assert caught.value.message.startswith(f"recovery.toml: option 'x': {key}: ")


def test_a_catalog_without_a_free_option_for_a_tier_is_refused() -> None:
    paid = {"name": "voucher", "cost": "20", "tiers": [1, 2, 3]}
    free = {"name": "sorry", "cost": "0", "tiers": [1, 2]}
    with pytest.raises(ConfigError, match="no free option for tier 3"):
        parse_catalog({"option": [paid, free]}, source="recovery.toml")


# -- DESIGN.md's stories ----------------------------------------------------------------------


def test_story_1_a_client_stranded_by_a_partner_gets_a_car_and_we_own_it() -> None:
    context = incident(
        "the travel site gave the client a wrong pick-up address for the rental car",
        message="I'm at the address you sent and there is no car here. I'm stranded.",
        ours=False,
        partner="TripDesk",
    )
    result = assess(context, WEIGHTS, CATALOG)
    assert result.tier >= 2
    assert any(
        f.key == "partner" and "partner's mistake" in f.text and "treated as ours" in f.text
        for f in result.factors
    )
    names = [o.name for o in result.options]
    assert "find the client a car" in names
    assert names.index("find the client a car") < 3


def tea_spill(message: str, deadline_hours: float) -> Assessment:
    context = incident(
        "a flight attendant spilled tea on the passenger's suit",
        message=message,
        deadline=NOW + timedelta(hours=deadline_hours),
    )
    return assess(context, WEIGHTS, CATALOG)


def test_story_3_the_same_spill_weighs_more_before_an_interview() -> None:
    interview = tea_spill("I'm meeting an interviewer straight from the airport at 1pm.", 3)
    home = tea_spill("No harm done, I'm going home, we land at midnight.", 14)
    assert interview.score > home.score
    assert interview.tier == 3 and home.tier < 3
    assert "the interview is in 3 hours" in texts(interview)
    assert "an interview is at stake" in texts(interview)
    assert "a flight is at stake" not in texts(interview)  # the attendant's flight is not hers
    assert any(f.key == "harm" for f in interview.factors)
    assert "make the client presentable now" in [o.name for o in interview.options]


def test_story_4_a_lost_room_on_a_full_weekend_is_a_rescue() -> None:
    context = incident(
        "the room the couple paid in advance was given away",
        message=(
            "We paid in advance and now there is no room for us tonight. The whole town is "
            "fully booked this weekend and we planned a special evening."
        ),
        deadline=NOW + timedelta(hours=8),
        cost=Decimal("154"),
    )
    result = assess(context, WEIGHTS, CATALOG)
    assert result.tier == 3 and result.authority == "owner"
    assert any(o.cost == 0 for o in result.options)
    assert 'alternatives are scarce: "The whole town is fully booked this weekend"' in texts(result)
    assert "a special evening is at stake" in texts(result)
    names = [o.name for o in result.options]
    assert "find the client a room elsewhere" in names and "find the client a car" not in names


def test_story_8_an_out_of_stock_size_points_to_a_competitor_for_a_20_year_client() -> None:
    context = incident("size 44 is out of stock", tenure_years=20.2)
    result = assess(context, WEIGHTS, CATALOG)
    assert "a client for 20 years" in texts(result)
    offers = {o.name: o.cost for o in result.options}
    assert offers["refer to a competitor who has it in stock"] == 0
    assert "order and ship" in offers


# -- the promise: always an option that costs nothing -----------------------------------------

WORDS = [
    "flight",
    "wedding",
    "stranded",
    "fully booked",
    "spilled on",
    "late",
    "out of stock",
    "wrong size",
    "damaged",
    "no car",
    "anniversary",
    "hello",
    "room",
    "order",
]
contexts = st.builds(
    lambda what, message, hours, cost, partner, stranded, years, value, p_alive, earlier: (
        IncidentContext(
            what=what,
            message=message,
            now=NOW,
            deadline=None if hours is None else NOW + timedelta(hours=hours),
            cost=cost,
            currency="EUR",
            ours=partner is None,
            partner=partner or None,
            stranded=stranded,
            tenure_years=years,
            yearly_value=value,
            p_alive=p_alive,
            earlier_incidents=earlier,
        )
    ),
    st.lists(st.sampled_from(WORDS), max_size=4).map(" ".join),
    st.none() | st.lists(st.sampled_from(WORDS), max_size=6).map(". ".join),
    st.none() | st.floats(-48, 400, allow_nan=False),
    st.none() | st.decimals(0, 10000, places=2),
    st.none() | st.sampled_from(["", "TripDesk"]),
    st.none() | st.booleans(),
    st.none() | st.floats(0, 60),
    st.none() | st.decimals(0, 100000, places=2),
    st.none() | st.floats(0, 1),
    st.integers(0, 6),
)


@settings(max_examples=300, deadline=None)
@given(contexts)
def test_every_assessment_offers_something_free_and_adds_up(context: IncidentContext) -> None:
    result = assess(context, WEIGHTS, CATALOG)
    assert any(o.cost == 0 for o in result.options)
    assert result.score == pytest.approx(sum(f.points for f in result.factors), abs=0.01)
    assert result.tier == WEIGHTS.tier_for(result.score)
    assert all(o.option.authority == "staff" for o in result.options) or result.tier == 3
    assert all(f.text for f in result.factors)
