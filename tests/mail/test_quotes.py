"""The new text of replies as each mail program writes them in sixteen languages, from the
fixtures in tests/data/quotes (and a second set written after the markers were chosen)."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from goodwill.mail.parse import parse_message
from goodwill.mail.quote_accuracy import Fixture, Score, evaluate, load_fixtures
from goodwill.mail.quotes import reply_text, tidy

DATA = Path(__file__).parent.parent / "data"
FIXTURES = load_fixtures(DATA / "quotes") + load_fixtures(DATA / "quotes-second-set")
LANGUAGES = {"cs", "da", "de", "en", "es", "fi", "fr", "it", "ja", "nl", "no", "pl", "pt"}
LANGUAGES |= {"ru", "sv", "tr"}


def test_every_language_has_each_mail_programs_replies() -> None:
    found = {f.language for f in load_fixtures(DATA / "quotes")}
    assert found == LANGUAGES | {"mixed"}
    for language in LANGUAGES:
        names = {f.name for f in FIXTURES if f.language == language}
        assert {"outlook-desktop", "outlook-web", "gmail", "gmail-wrapped", "iphone"} <= names
        assert {"apple-mail", "thunderbird-top-posted", "forward"} <= names


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f"{f.language}-{f.name}")
def test_the_new_text_is_exactly_what_the_sender_wrote_now(fixture: Fixture) -> None:
    assert reply_text(fixture.raw) == tidy(fixture.new)


@pytest.mark.parametrize("fixture", FIXTURES[:40], ids=lambda f: f"{f.language}-{f.name}")
def test_windows_line_endings_change_nothing(fixture: Fixture) -> None:
    assert reply_text(fixture.raw.replace("\n", "\r\n")) == tidy(fixture.new)


def test_precision_counts_wrong_cuts_and_recall_counts_missed_ones() -> None:
    fixtures = [
        Fixture(
            "en",
            "quoted",
            "Yes.\n\nOn Mon, 4 Mar 2024 at 10:15, A <a@b.example> wrote:\n> Q?\n",
            "Yes.",
        ),
        Fixture(
            "en",
            "plain",
            "Sent from my desk, is easier.\nKim\n",
            "Sent from my desk, is easier.\nKim",
        ),
    ]
    scores = evaluate(
        fixtures, {"keeps": lambda text: text, "first-line": lambda t: t.split("\n")[0]}
    )
    assert scores[("en", "keeps")] == Score(replies=2, exact=1, cut=0, cut_exact=0, needed=1)
    assert scores[("en", "keeps")].precision is None and scores[("en", "keeps")].recall == 0
    first = scores[("en", "first-line")]
    assert (first.exact, first.precision, first.recall) == (1, 0.5, 1.0)


def test_a_library_that_raises_counts_as_a_wrong_cut() -> None:
    def broken(text: str) -> str:
        raise ValueError(text)

    (score,) = evaluate([Fixture("de", "x", "Hallo\n", "Hallo")], {"broken": broken}).values()
    assert (score.exact, score.cut) == (0, 1)


def test_many_attributions_each_above_a_quote_are_read_in_one_pass() -> None:
    body = "On Mon, 4 Mar 2024 at 10:15, Anna <a@b.example> wrote:\n> q\n\nyes\n\n" * 3000
    assert reply_text(body) == "\n\n".join(["yes"] * 3000)


def html_only(html: str) -> bytes:
    message = EmailMessage()
    message["From"] = "piotr@nowak.example"
    message["Message-ID"] = "<h1@nowak.example>"
    message.set_content(html, subtype="html")
    return message.as_bytes()


def test_an_html_only_outlook_reply_in_polish_loses_its_history() -> None:
    html = (
        "<html><body><p>Wtorek o 10 bardzo nam pasuje.</p>"
        "<p><b>Od:</b> Anna Kowalska &lt;anna@kowalska.example&gt;<br><b>Wysłano:</b> "
        "poniedziałek, 4 marca 2024 10:15<br><b>Do:</b> Piotr Nowak<br><b>Temat:</b> Spotkanie"
        "</p><p>Czy pasuje wtorek?</p></body></html>"
    )
    parsed = parse_message(html_only(html))
    assert parsed.new_text == "Wtorek o 10 bardzo nam pasuje."
    assert "Czy pasuje wtorek?" in parsed.text


def test_an_html_only_gmail_reply_in_russian_loses_its_history() -> None:
    html = (
        '<div dir="ltr">Да, в четверг удобно.</div><br><div class="gmail_quote">'
        '<div dir="ltr" class="gmail_attr">пн, 4 мар. 2024 г. в 10:15, Дмитрий '
        "&lt;dmitry@smirnov.example&gt;:<br></div>"
        '<blockquote class="gmail_quote">Вам удобно в четверг?</blockquote></div>'
    )
    assert parse_message(html_only(html)).new_text == "Да, в четверг удобно."
