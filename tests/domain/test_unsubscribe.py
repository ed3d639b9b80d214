"""Marketing mail's unsubscribe headers and visible line, its signed token, and who may be sent
marketing at all."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from types import SimpleNamespace

import pytest

from goodwill.domain.consent import LINK_HOW, from_import, may_send_marketing, read_consent
from goodwill.domain.unsubscribe import (
    add_unsubscribe,
    issue_token,
    prepare_marketing,
    read_token,
    unsubscribe_url,
)
from goodwill.errors import ConfigError

URL = "https://care.shop.example/unsubscribe/abc.def"
KEY = "test-signing-key"


def _mail(html: bool = True) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Holloway & Daughters <care@shop.example>"
    message["To"] = "margaret@example.com"
    message["Subject"] = "Autumn is here"
    message.set_content("Dear Margaret,\n\nThe autumn collection is in.\n")
    if html:
        message.add_alternative(
            "<html><body><p>Dear Margaret,</p><p>The autumn collection is in.</p></body></html>",
            subtype="html",
        )
    return message


def _bodies(message: EmailMessage) -> dict[str, str]:
    sent = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert isinstance(sent, EmailMessage)
    return {
        part.get_content_type(): part.get_content()
        for part in sent.walk()
        if not part.is_multipart()
    }


def test_marketing_mail_gets_one_click_headers_and_a_visible_line_in_both_bodies() -> None:
    original = _mail()
    ready = add_unsubscribe(original, purpose="marketing", url=URL, mailto="stop@shop.example")
    assert ready["List-Unsubscribe"] == (f"<{URL}>, <mailto:stop@shop.example?subject=unsubscribe>")
    assert ready["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    bodies = _bodies(ready)
    assert bodies["text/plain"].startswith("Dear Margaret,")
    assert f"unsubscribe: {URL}" in bodies["text/plain"]
    html = bodies["text/html"]
    assert f'<a href="{URL}">unsubscribe</a>' in html
    assert html.index("unsubscribe") < html.index("</body>")
    assert "List-Unsubscribe" not in original  # the given message is left as it was
    assert "unsubscribe" not in _bodies(original)["text/plain"]


def test_without_an_address_only_the_link_and_a_plain_text_mail_gets_its_line() -> None:
    ready = add_unsubscribe(_mail(html=False), purpose="marketing", url=URL)
    assert ready["List-Unsubscribe"] == f"<{URL}>"
    assert URL in _bodies(ready)["text/plain"]


def test_adding_twice_keeps_one_header_each() -> None:
    twice = add_unsubscribe(
        add_unsubscribe(_mail(), purpose="marketing", url=URL), purpose="marketing", url=URL
    )
    assert len(twice.get_all("List-Unsubscribe") or []) == 1
    assert len(twice.get_all("List-Unsubscribe-Post") or []) == 1


def test_service_mail_gets_nothing() -> None:
    reply = _mail()
    same = add_unsubscribe(reply, purpose="transactional", url=URL)
    assert "List-Unsubscribe" not in same and "List-Unsubscribe-Post" not in same
    assert same.keys() == reply.keys()
    assert _bodies(same) == _bodies(reply)


def test_the_link_must_be_https_and_the_purpose_known() -> None:
    with pytest.raises(ValueError, match="https"):
        add_unsubscribe(_mail(), purpose="marketing", url="http://care.shop.example/u/x")
    with pytest.raises(ValueError, match="purpose"):
        add_unsubscribe(_mail(), purpose="newsletter", url=URL)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as refused:
        unsubscribe_url(None, "token")
    assert refused.value.fields["key"] == "public_url"
    with pytest.raises(ConfigError):
        unsubscribe_url("http://care.shop.example", "token")


def test_prepare_marketing_names_the_clients_own_link() -> None:
    ready = prepare_marketing(
        _mail(), key=KEY, client_id=42, public_url="https://care.shop.example/"
    )
    header = ready["List-Unsubscribe"]
    token = header.removeprefix("<https://care.shop.example/unsubscribe/").removesuffix(">")
    assert read_token(KEY, token) == 42


def test_a_token_reads_back_only_untouched_and_with_the_same_key() -> None:
    token = issue_token(KEY, 7)
    assert read_token(KEY, token) == 7
    assert read_token("another key", token) is None
    assert read_token(KEY, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert read_token(KEY, "7") is None
    assert read_token(KEY, "") is None


@pytest.mark.parametrize(("consent", "allowed"), [(True, True), (False, False), (None, False)])
def test_marketing_only_with_consent_given(consent: bool | None, allowed: bool) -> None:
    assert may_send_marketing(SimpleNamespace(marketing_consent=consent)) is allowed


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", True),
        ("Yes", True),
        ("TRUE", True),
        ("1", True),
        ("no", False),
        ("No", False),
        ("false", False),
        ("0", False),
        ("", None),
        ("  ", None),
    ],
)
def test_a_consent_cell_reads_yes_no_or_nothing(text: str, value: bool | None) -> None:
    assert read_consent(text) is value


def test_a_consent_cell_saying_something_else_is_refused() -> None:
    with pytest.raises(ValueError, match="'maybe' is not yes or no"):
        read_consent("maybe")


def test_an_import_may_withdraw_but_never_undo_an_unsubscribe_by_link() -> None:
    assert from_import(None, None, True) is True
    assert from_import(None, None, False) is False
    assert from_import(True, "import: shopify", False) is False
    assert from_import(False, "import: shopify", True) is True
    assert from_import(False, LINK_HOW, True) is None
    assert from_import(True, "import: shopify", True) is None
    assert from_import(True, "import: shopify", None) is None
