"""Which links of a mail become tracked ones, and which clicks are a person's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from goodwill.domain.click_tracking import counts_as_person, is_scanner, parse_settings, track_links
from goodwill.errors import ConfigError
from goodwill.settings import load_settings

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"


class Marker:
    """A stand-in signer that shows what it was given."""

    base = "https://care.example.com"

    def __call__(self, client_id: int, url: str, mail_ref: str) -> str:
        return f"<T {client_id} {mail_ref} {url}>"


def test_plain_text_links_are_rewritten_and_trailing_punctuation_stays_outside() -> None:
    body = "See https://shop.example/manual.pdf. Or (https://shop.example/faq?q=1&x=2), thanks!\n"
    tracked = track_links(body, 7, "reply:m1", Marker())
    assert tracked == (
        "See <T 7 reply:m1 https://shop.example/manual.pdf>. "
        "Or (<T 7 reply:m1 https://shop.example/faq?q=1&x=2>), thanks!\n"
    )


def test_quoted_lines_own_links_and_other_schemes_are_left_alone() -> None:
    body = (
        "Your order: https://shop.example/o/1\n"
        "> On Monday you wrote: https://client.example/photo\n"
        "Answer here: https://care.example.com/feedback/abc\n"
        "Mail us: mailto:care@shop.example, call tel:+3161234\n"
    )
    lines = track_links(body, 7, "m", Marker()).splitlines()
    assert lines[0] == "Your order: <T 7 m https://shop.example/o/1>"
    assert lines[1:] == body.splitlines()[1:]


def test_html_rewrites_anchor_hrefs_only_and_not_inside_blockquotes() -> None:
    body = (
        '<p>Read <a class="x" href="https://shop.example/a?b=1&amp;c=2">this</a> '
        "and <a href='https://shop.example/b'>that</a>; https://shop.example/text stays text.</p>"
        '<blockquote><a href="https://client.example/quoted">theirs</a></blockquote>'
        '<img src="https://shop.example/logo.png">'
    )
    tracked = track_links(body, 3, "m", Marker(), html=True)
    assert 'href="&lt;T 3 m https://shop.example/a?b=1&amp;c=2&gt;"' in tracked
    assert 'href="&lt;T 3 m https://shop.example/b&gt;"' in tracked
    assert "https://shop.example/text stays text" in tracked
    assert '<a href="https://client.example/quoted">' in tracked
    assert '<img src="https://shop.example/logo.png">' in tracked


def test_a_body_without_links_is_unchanged() -> None:
    assert track_links("Thank you, see you soon.\n", 1, "m", Marker()) == (
        "Thank you, see you soon.\n"
    )


def test_a_person_is_a_browser_get_well_after_delivery() -> None:
    sent = NOW - timedelta(minutes=5)
    ask = {"user_agent": BROWSER, "delivered_at": sent, "delivered": True, "min_seconds": 30}
    assert counts_as_person(method="GET", now=NOW, **ask)  # type: ignore[arg-type]
    assert not counts_as_person(method="HEAD", now=NOW, **ask)  # type: ignore[arg-type]
    fast = NOW - timedelta(seconds=5)
    assert not counts_as_person(
        method="GET", user_agent=BROWSER, delivered_at=fast, delivered=True, now=NOW, min_seconds=30
    )
    assert not counts_as_person(
        method="GET",
        user_agent=BROWSER,
        delivered_at=None,
        delivered=False,
        now=NOW,
        min_seconds=30,
    )


@pytest.mark.parametrize(
    "agent", ["", None, "Mozilla/5.0 (compatible; Barracuda Sentinel)", "Googlebot/2.1", "curl/8.5"]
)
def test_known_scanners_and_missing_agents_are_not_people(agent: str | None) -> None:
    assert is_scanner(agent)


def test_a_browser_is_not_a_scanner() -> None:
    assert not is_scanner(BROWSER)


def test_tracking_settings_are_off_by_default_and_checked() -> None:
    path = Path("goodwill.toml")
    assert parse_settings({}, path) == {"clicks": False, "min_seconds": 30}
    assert parse_settings({"clicks": True, "min_seconds": 10}, path)["clicks"] is True
    with pytest.raises(ConfigError) as wrong:
        parse_settings({"clicks": "yes"}, path)
    assert wrong.value.fields["key"] == "tracking.clicks"
    with pytest.raises(ConfigError) as negative:
        parse_settings({"min_seconds": -1}, path)
    assert negative.value.fields["key"] == "tracking.min_seconds"
    with pytest.raises(ConfigError):
        parse_settings({"links": True}, path)


def test_clicks_on_without_a_public_url_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "goodwill.toml"
    config.write_text("[tracking]\nclicks = true\n", encoding="utf-8")
    with pytest.raises(ConfigError) as missing:
        load_settings(config_path=config, environ={})
    assert missing.value.fields["key"] == "tracking.clicks"
    config.write_text('public_url = "https://care.example.com/"\n[tracking]\nclicks = true\n')
    assert load_settings(config_path=config, environ={}).tracking["clicks"] is True
