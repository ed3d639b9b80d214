"""The contact form's rules without a server: what a submission must hold, which files pass, and
the token that tells a person from a bot (times injected)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from goodwill.domain.contact_form import (
    DEFAULTS,
    Upload,
    check_token,
    file_type,
    issue_token,
    parse_settings,
    subject_for,
    validate,
    window_of,
)
from goodwill.errors import ConfigError, InvalidInput

KEY = b"k" * 32
ISSUED = datetime(2026, 11, 23, 15, 0, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
GOOD: dict[str, Any] = {
    "name": "  Nora   Quist ",
    "email": " Nora@Example.ORG ",
    "phone": "",
    "choice": "question",
    "message": "Do you ship to Oslo?\r\nThanks!",
    "uploads": [],
    "limits": DEFAULTS,
}


def errors_of(**changes: Any) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        validate(**{**GOOD, **changes})
    listed = caught.value.fields["errors"]
    assert isinstance(listed, list)
    return {e["field"]: e["message"] for e in listed}


def test_a_good_submission_is_tidied() -> None:
    sent = validate(**GOOD)
    assert (sent.name, sent.email, sent.phone) == ("Nora Quist", "nora@example.org", None)
    assert sent.message == "Do you ship to Oslo?\nThanks!"
    assert subject_for(sent) == "Question: Do you ship to Oslo?"


def test_every_wrong_field_is_named_at_once() -> None:
    wrong = errors_of(name="", email="nora", choice="spam", message=" ")
    assert set(wrong) == {"name", "email", "choice", "message"}
    assert wrong["email"] == "This is not an email address."
    assert errors_of(email="")["email"] == "Please give your email address."
    assert "at most 200" in errors_of(name="x" * 201)["name"]
    assert "at most 10,000" in errors_of(message="x" * 10_001)["message"]


def test_a_phone_is_read_in_the_business_country_or_needs_its_code() -> None:
    assert validate(**{**GOOD, "phone": "06 1234 5678"}, region="NL").phone == "+31612345678"
    assert "+<country>" in errors_of(phone="06 1234 5678")["phone"]
    assert "phone" in errors_of(phone="call me")


def test_control_characters_do_not_reach_the_message() -> None:
    sent = validate(**{**GOOD, "name": "Nora\x00\nQuist", "message": "Hi\x00 there\x1b[31m"})
    assert sent.name == "Nora Quist" and sent.message == "Hi there[31m"


def test_files_are_typed_by_name_and_checked_by_their_first_bytes() -> None:
    assert file_type("shade.PNG", PNG) == "image/png"
    assert file_type("app.log", b"started\n") == "text/plain"
    assert file_type("report.pdf", b"%PDF-1.7\n") == "application/pdf"
    assert file_type("logs.zip", b"PK\x03\x04rest") == "application/zip"
    assert file_type("invoice.pdf", b"MZ\x90\x00") is None  # a program renamed
    assert file_type("notes.txt", b"a\x00b") is None
    assert file_type("photo.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert file_type("no-extension", b"data") is None


def test_files_beyond_the_limits_are_refused_by_name() -> None:
    limits = {**DEFAULTS, "max_files": 2, "max_file_bytes": 100}
    many = [Upload(f"{i}.png", "image/png", PNG) for i in range(3)]
    assert errors_of(uploads=many, limits=limits)["attachments"] == "Attach at most 2 files."
    big = [Upload("big.png", "image/png", PNG + b"\x00" * 100)]
    assert (
        errors_of(uploads=big, limits=limits)["attachments"] == "big.png is larger than 100 bytes."
    )
    odd = [Upload("tool.exe", "application/pdf", b"MZ")]
    assert "tool.exe is not a kind of file we accept" in errors_of(uploads=odd)["attachments"]
    none = {**DEFAULTS, "max_files": 0}
    one = [Upload("a.png", "image/png", PNG)]
    assert errors_of(uploads=one, limits=none)["attachments"] == "Files cannot be attached here."


def test_an_accepted_file_gets_a_safe_name_and_the_type_found() -> None:
    uploads = [
        Upload("../../etc/passwd.txt", "application/x-evil", b"root\n"),
        Upload("", "application/octet-stream", b""),  # an empty file input: nothing sent
        Upload("C:\\Users\\nora\\" + "n" * 300 + ".png", "image/png", PNG),
    ]
    sent = validate(**{**GOOD, "uploads": uploads})
    assert [(a.filename, a.content_type) for a in sent.attachments] == [
        ("passwd.txt", "text/plain"),
        ("n" * 196 + ".png", "image/png"),
    ]


def test_allowed_types_may_name_a_family() -> None:
    limits = {**DEFAULTS, "allowed_types": ["image/*"]}
    sent = validate(**{**GOOD, "uploads": [Upload("a.png", "", PNG)], "limits": limits})
    assert sent.attachments[0].content_type == "image/png"
    pdf = [Upload("a.pdf", "", b"%PDF-1.4")]
    assert "(images)" in errors_of(uploads=pdf, limits=limits)["attachments"]


def test_the_same_submission_has_the_same_digest() -> None:
    one = validate(**{**GOOD, "uploads": [Upload("a.png", "image/png", PNG)]})
    two = validate(**{**GOOD, "uploads": [Upload("a.png", "image/jpeg", PNG)]})
    other = validate(**{**GOOD, "message": "Something else"})
    assert one.digest() == two.digest() != other.digest()


@pytest.mark.parametrize(
    ("seconds", "verdict"),
    [
        (0, "too_fast"),
        (1.9, "too_fast"),
        (2, "ok"),
        (3600, "ok"),
        (DAY.total_seconds() + 1, "expired"),
    ],
)
def test_the_token_tells_how_long_the_form_was_open(seconds: float, verdict: str) -> None:
    token = issue_token(KEY, now=ISSUED, nonce="n1")
    check = check_token(
        KEY, token, now=ISSUED + timedelta(seconds=seconds), min_seconds=2, max_age=DAY
    )
    assert check.verdict == verdict and check.nonce == "n1"


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "1.2.3.4", "x.n1.sig", "1700000000..sig", "9" * 300],
)
def test_a_token_not_signed_here_is_forged(token: str) -> None:
    later = ISSUED + timedelta(minutes=1)
    assert check_token(KEY, token, now=later, min_seconds=2, max_age=DAY).verdict == "forged"


def test_a_token_changed_or_signed_with_another_key_is_forged() -> None:
    token = issue_token(KEY, now=ISSUED, nonce="n1")
    later = ISSUED + timedelta(minutes=1)
    stamp, nonce, signature = token.split(".")
    older = f"{int(stamp) - 3600}.{nonce}.{signature}"
    assert check_token(KEY, older, now=later, min_seconds=2, max_age=DAY).verdict == "forged"
    other = issue_token(b"o" * 32, now=ISSUED, nonce="n1")
    assert check_token(KEY, other, now=later, min_seconds=2, max_age=DAY).verdict == "forged"
    assert issue_token(KEY, now=ISSUED) != issue_token(KEY, now=ISSUED)  # a fresh nonce each


def test_windows_are_fixed_and_aligned() -> None:
    start, end = window_of(ISSUED + timedelta(seconds=75), 60)
    assert (start, end) == (ISSUED + timedelta(minutes=1), ISSUED + timedelta(minutes=2))


def test_settings_default_and_refuse_wrong_values_by_key() -> None:
    here = Path("goodwill.toml")
    assert parse_settings({}, here) == DEFAULTS
    chosen = parse_settings({"enabled": True, "allowed_types": ["IMAGE/*"]}, here)
    assert chosen["enabled"] is True and chosen["allowed_types"] == ["image/*"]
    for wrong, key in (
        ({"enabled": "yes"}, "contact_form.enabled"),
        ({"max_files": 99}, "contact_form.max_files"),
        ({"max_file_bytes": 0}, "contact_form.max_file_bytes"),
        ({"per_minute": 1.5}, "contact_form.per_minute"),
        ({"token_hours": 0}, "contact_form.token_hours"),
        ({"min_seconds": -1}, "contact_form.min_seconds"),
        ({"allowed_types": ["pdf"]}, "contact_form.allowed_types"),
        ({"embed_origins": ["https://shop.example/contact"]}, "contact_form.embed_origins"),
        ({"captcha": True}, "contact_form"),
    ):
        with pytest.raises(ConfigError) as caught:
            parse_settings(wrong, here)
        assert caught.value.fields["key"] == key
