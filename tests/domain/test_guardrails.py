"""Guardrails: each rule on its own (exact spans), the stories, and the labelled set's scores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from goodwill.domain.guardrails import (
    CODES,
    Finding,
    ReplyContext,
    check_reply,
    is_blocked,
)
from goodwill.domain.reply_lexicon import DEFAULT_LEXICON, parse_lexicon
from goodwill.errors import ConfigError

REPLIES = Path(__file__).parent.parent / "data" / "replies.jsonl"

CAR_HIRE = ReplyContext(
    recipient_name="Priya Shah",
    recipient_first_name="Priya",
    other_client_names=("Dan Whitaker", "Maria Elena López", "Will Turner", "Zoë Müller"),
    partners=("TripFinder", "RoamAway", "Booking.com", "web shop"),
    partner="TripFinder",
    needs_next_step=False,
    staff_names=("Marco Bellini", "Jess Park"),
)


def found(text: str, context: ReplyContext = CAR_HIRE) -> list[tuple[str, str, str]]:
    """(code, severity, offending text) for each finding."""
    return [(f.code, f.severity, text[f.start : f.end]) for f in check_reply(text, context)]


# -- the stories -----------------------------------------------------------------------------


def test_story_1_we_are_not_affiliated_with_the_site_is_flagged_and_blocks() -> None:
    stranded = CAR_HIRE.__class__(**{**CAR_HIRE.__dict__, "needs_next_step": True})
    text = "Hi Priya,\nWe are not affiliated with the site. Please contact them about the address."
    assert found(text, stranded) == [
        ("no_next_step", "warn", text),
        ("deflection", "block", "not affiliated"),
        ("deflection", "warn", "Please contact them"),
    ]
    assert is_blocked(check_reply(text, stranded))


def test_story_1_the_reply_that_owns_the_problem_and_offers_a_car_passes() -> None:
    stranded = CAR_HIRE.__class__(**{**CAR_HIRE.__dict__, "needs_next_step": True})
    text = (
        "Hi Priya,\nI'm so sorry. The address TripFinder gave you was wrong, and that is ours to "
        "fix. I've booked you a car at the airport desk, and Marco will meet you there within the "
        "hour. Would you rather we bring it to your hotel?"
    )
    assert check_reply(text, stranded) == []


def test_story_2_a_canned_reply_meant_for_dan_at_another_booking_site_is_blocked() -> None:
    text = "Hi Dan,\nThanks for booking through RoamAway. Your car is ready."
    assert found(text) == [
        ("other_client_name", "block", "Dan"),
        ("wrong_partner", "block", "RoamAway"),
    ]
    findings = check_reply(text, CAR_HIRE)
    assert is_blocked(findings)
    assert "Dan Whitaker" in findings[0].message and "Priya Shah" in findings[0].message


# -- other_client_name -----------------------------------------------------------------------


def test_another_clients_full_name_anywhere_blocks_with_its_span() -> None:
    text = "Hi Priya, I've also refunded Dan Whitaker's deposit."
    assert check_reply(text, CAR_HIRE) == [
        Finding("other_client_name", "block", 29, 41, check_reply(text, CAR_HIRE)[0].message)
    ]


def test_names_match_without_accents_and_without_case() -> None:
    assert found("Hi Priya, ms muller asked us to move your booking.") == [
        ("other_client_name", "block", "ms muller")
    ]
    assert found("Dear Zoe,\nthanks.") == [("other_client_name", "block", "Zoe")]
    assert found("Hi Priya, Maria Lopez called.") == [("other_client_name", "block", "Maria Lopez")]


def test_a_first_name_alone_in_the_body_warns_and_a_word_name_does_not() -> None:
    assert found("Hi Priya, Maria told us about the delay.") == [
        ("other_client_name", "warn", "Maria")
    ]
    assert found("Hi Priya, Will you be back in May? We will keep the car.") == []


def test_a_word_name_counts_in_the_greeting() -> None:
    assert found("Hello Will,\nyour car is ready.") == [("other_client_name", "block", "Will")]


def test_a_first_name_the_recipient_or_staff_shares_never_counts() -> None:
    shared = ReplyContext(
        "Dan Okafor",
        "Dan",
        other_client_names=("Dan Whitaker", "Jess Moreno"),
        staff_names=("Jess Park",),
    )
    assert found("Hi Dan,\nJess will call you at 3pm.", shared) == []


def test_a_greeting_name_that_is_not_the_recipients_warns() -> None:
    assert found("Hi Kevin,\nthanks for your booking.") == [("other_client_name", "warn", "Kevin")]


def test_nicknames_titles_and_generic_greetings_are_the_recipient() -> None:
    robert = ReplyContext("Robert Klein", "Robert", other_client_names=("Emily Zhang",))
    assert found("Hi Bob,\nall fixed.", robert) == []
    assert found("Dear Mr Klein,\nall fixed.", robert) == []
    assert found("Dear Sir or Madam,\nall fixed.", robert) == []
    assert found("Hi there, all fixed.", robert) == []


def test_names_in_the_sign_off_and_in_quoted_lines_are_not_the_recipients_business() -> None:
    signed = ReplyContext("Priya Shah", "Priya", other_client_names=("Sam Ortiz Lee",))
    text = "Hi Priya,\nyour car is ready.\n\nBest,\nSam\n\n> From Dan Whitaker: is it ready?"
    assert found(text, signed) == []


# -- wrong_partner ---------------------------------------------------------------------------


def test_another_partner_blocks_and_the_conversations_own_partner_does_not() -> None:
    text = "Your TripFinder booking is fine; the booking.com one is not ours."
    assert found(text) == [("wrong_partner", "block", "booking.com")]


def test_with_no_partner_on_the_conversation_a_partner_mention_warns() -> None:
    direct = ReplyContext("Priya Shah", "Priya", partners=("TripFinder", "RoamAway"))
    assert found("Thanks for your RoamAway review!", direct) == [
        ("wrong_partner", "warn", "RoamAway")
    ]


def test_bare_channel_words_and_reseller_prefixes_are_understood() -> None:
    shop = ReplyContext(
        "Dana Reyes",
        "Dana",
        partners=("store", "web shop", "Reseller: Northwind", "Etsy"),
        partner="Etsy",
    )
    text = "Come by the store or the web shop; Northwind has it too."
    assert found(text, shop) == [("wrong_partner", "block", "Northwind")]


# -- unfilled_placeholder --------------------------------------------------------------------


@pytest.mark.parametrize(
    "marker",
    [
        "{{ first_name }}",
        "{{name}}",
        "{% if vip %}",
        "{first_name}",
        "${amount}",
        "[NAME]",
        "[First Name]",
        "[insert date]",
        "<<date>>",
        "%NAME%",
        "XXX",
        "__CLIENT__",
        "TBD",
    ],
)
def test_template_syntax_left_in_the_text_blocks(marker: str) -> None:
    text = f"Hi Priya, your car is booked for {marker}. See you then!"
    assert found(text) == [("unfilled_placeholder", "block", marker)]


@pytest.mark.parametrize("greeting", ["Dear ,", "Hi ,", "Dear Mr. ,", "Dear,"])
def test_an_empty_greeting_blocks(greeting: str) -> None:
    assert found(f"{greeting}\nthank you for your order.") == [
        ("unfilled_placeholder", "block", greeting)
    ]


def test_ordinary_brackets_percentages_and_casual_greetings_are_fine() -> None:
    text = "Hi, your refund (20% of the fare) is on its way [1]. Hello again soon!"
    assert found(text) == []


# -- deflection ------------------------------------------------------------------------------


def test_soft_deflections_warn_and_strong_ones_block() -> None:
    assert found("As per our policy, the deposit stays. It's not our fault.") == [
        ("deflection", "warn", "As per our policy"),
        ("deflection", "block", "not our fault"),
    ]


def test_please_contact_a_partner_by_name_is_a_deflection() -> None:
    assert found("Please contact TripFinder about that.") == [
        ("deflection", "warn", "Please contact TripFinder")
    ]


def test_allowed_phrases_are_never_flagged() -> None:
    assert found("It's not your responsibility to chase this.") == []


def test_the_lexicon_setting_adds_removes_and_hardens_phrases() -> None:
    lexicon = parse_lexicon(
        {
            "guardrails": {
                "deflection": ["that's the airline's job"],
                "deflection_block": ["as per our policy"],
                "remove": ["company policy"],
                "next_step": ["the shuttle leaves"],
            }
        },
        source="goodwill.toml",
    )
    text = "As per our policy, that's the airline's job. Company policy."
    codes = [(f.severity, text[f.start : f.end]) for f in check_reply(text, CAR_HIRE, lexicon)]
    assert codes == [("block", "As per our policy"), ("warn", "that's the airline's job")]
    waiting = ReplyContext("Priya Shah", "Priya", needs_next_step=True)
    assert check_reply("Sorry. The shuttle leaves soon.", waiting, lexicon) == []
    assert check_reply("Sorry. The shuttle leaves soon.", waiting) != []


def test_a_wrong_lexicon_names_the_file_and_the_key() -> None:
    with pytest.raises(ConfigError, match=r"goodwill\.toml: unknown key guardrails\.phrases"):
        parse_lexicon({"guardrails": {"phrases": []}}, source="goodwill.toml")
    with pytest.raises(ConfigError, match=r"guardrails\.allow must be a list"):
        parse_lexicon({"guardrails": {"allow": "not your fault"}}, source="goodwill.toml")
    assert parse_lexicon({}, source="goodwill.toml") == DEFAULT_LEXICON


# -- no_next_step ----------------------------------------------------------------------------

WAITING = ReplyContext("Priya Shah", "Priya", needs_next_step=True)


def test_a_reply_with_no_offer_question_or_time_warns_when_the_client_waits() -> None:
    text = "  Hi Priya, we apologise for the inconvenience.\n"
    assert found(text, WAITING) == [("no_next_step", "warn", text.strip())]
    assert found(text, CAR_HIRE) == []


@pytest.mark.parametrize(
    "step",
    [
        "We will call you.",
        "I'll sort it out.",
        "Would you like a new car?",
        "Is the hotel the best place to meet?",
        "A new lid ships tomorrow.",
        "The car is at the desk by 3pm.",
        "It goes out on Friday.",
        "Expect it within the hour.",
    ],
)
def test_an_offer_a_question_or_a_time_is_a_next_step(step: str) -> None:
    assert found(f"Hi Priya, sorry about that. {step}", WAITING) == []


@pytest.mark.parametrize(
    "no_step",
    [
        "We can't do anything else.",
        "We will not refund it.",
        "Sorry about the outage this morning.",
        "It was broken on Monday.",
    ],
)
def test_refusals_and_times_in_the_past_or_in_an_apology_are_no_next_step(no_step: str) -> None:
    assert "no_next_step" in {f.code for f in check_reply(f"Hi Priya. {no_step}", WAITING)}


def test_findings_serialise_for_the_api_and_the_cli() -> None:
    (finding,) = check_reply("Hi Priya, [NAME] here.", CAR_HIRE)
    assert finding.as_dict() == {
        "code": "unfilled_placeholder",
        "severity": "block",
        "start": 10,
        "end": 16,
        "message": finding.message,
    }


# -- the labelled set ------------------------------------------------------------------------


def labelled() -> list[dict[str, object]]:
    with REPLIES.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def test_the_labelled_set_is_big_enough_and_covers_every_code() -> None:
    rows = labelled()
    assert len(rows) >= 220
    assert len({r["id"] for r in rows}) == len(rows)
    assert sum(1 for r in rows if not r["expected"]) >= 80
    for code in CODES:
        assert sum(1 for r in rows if r["expected"] == [code]) >= 25, code


def test_precision_and_recall_per_code_on_the_labelled_replies() -> None:
    """Run with ``-s`` to print the table that docs/guardrails.md quotes."""
    counts = {code: {"tp": 0, "fp": 0, "fn": 0} for code in CODES}
    false_blocks = []
    for row in labelled():
        context = ReplyContext(**row["context"])  # type: ignore[arg-type]
        findings = check_reply(str(row["text"]), context)
        got = {f.code for f in findings}
        expected = set(row["expected"])  # type: ignore[call-overload]
        if not expected and is_blocked(findings):
            false_blocks.append(row["id"])
        for code in CODES:
            if code in got:
                counts[code]["tp" if code in expected else "fp"] += 1
            elif code in expected:
                counts[code]["fn"] += 1
    print("\n| code | replies | precision | recall |\n|---|---:|---:|---:|")
    scores = {}
    for code, c in counts.items():
        precision = c["tp"] / max(1, c["tp"] + c["fp"])
        recall = c["tp"] / max(1, c["tp"] + c["fn"])
        scores[code] = (precision, recall)
        print(f"| {code} | {c['tp'] + c['fn']} | {precision:.2f} | {recall:.2f} |")
    assert false_blocks == []
    assert {code: s for code, s in scores.items() if min(s) < 0.9} == {}
