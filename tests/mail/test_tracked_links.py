"""Click tokens: signed, read back only when untouched, and a whole mail's links tracked."""

from __future__ import annotations

from email.message import EmailMessage

from itsdangerous import URLSafeSerializer

from goodwill.mail.tracked_links import Click, ClickSigner, track_message

BASE = "https://care.example.com"


def _token(tracked: str) -> str:
    return tracked.removeprefix(BASE + "/click/")


def test_a_token_reads_back_as_the_client_link_and_mail_it_was_made_for() -> None:
    signer = ClickSigner("key", BASE + "/")
    tracked = signer(42, "https://shop.example/a?b=1", "reply:m1@shop.example")
    assert tracked.startswith(BASE + "/click/")
    assert signer.read(_token(tracked)) == Click(
        42, "https://shop.example/a?b=1", "reply:m1@shop.example"
    )


def test_a_changed_token_or_another_key_reads_as_nothing() -> None:
    signer = ClickSigner("key", BASE)
    token = _token(signer(42, "https://shop.example/", "m"))
    assert signer.read(token[:-2] + ("xy" if not token.endswith("xy") else "zz")) is None
    assert ClickSigner("other key", BASE).read(token) is None
    assert signer.read("") is None and signer.read("not.a.token") is None


def test_a_signed_token_for_something_other_than_a_web_link_is_refused() -> None:
    sneaky = URLSafeSerializer("key", salt="goodwill.click-tracking")
    signer = ClickSigner("key", BASE)
    assert signer.read(sneaky.dumps({"c": 1, "u": "javascript:alert(1)", "m": "m"})) is None
    assert signer.read(sneaky.dumps({"c": "1", "u": "https://x.example/", "m": "m"})) is None
    assert signer.read(sneaky.dumps(["https://x.example/"])) is None


def test_both_parts_of_a_mail_are_tracked_and_attachments_are_not() -> None:
    mail = EmailMessage()
    mail["Subject"] = "Your descaler"
    mail.set_content("Order it here: https://shop.example/d\n")
    mail.add_alternative(
        '<p>Order it <a href="https://shop.example/d">here</a>.</p>', subtype="html"
    )
    mail.add_attachment("see https://shop.example/raw", filename="notes.txt")
    track_message(mail, 5, "reply:m2", ClickSigner("key", BASE))
    alternatives, attachment = mail.iter_parts()
    plain, html = (part.get_content() for part in alternatives.iter_parts())
    attached = attachment.get_content()
    assert "https://shop.example/d" not in plain and BASE + "/click/" in plain
    assert 'href="https://care.example.com/click/' in html
    assert attached.strip() == "see https://shop.example/raw"
    assert mail["Subject"] == "Your descaler"


def test_without_a_signer_the_mail_is_left_as_it_is() -> None:
    mail = EmailMessage()
    mail.set_content("https://shop.example/d\n")
    before = mail.as_bytes()
    assert track_message(mail, 5, "m", None).as_bytes() == before
