import base64
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goodwill.mail.parse import MessageUnreadable, ParsedMessage, parse_message, reply_text

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n\x00\xff\x80"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def mail(body: str = "Hello", *, html: str | None = None, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = headers.pop("from_", "Tom Meyer <Tom@Meyer.example>")
    message["To"] = headers.pop("to", "care@studio.example")
    message["Subject"] = headers.pop("subject", "Visit")
    message["Date"] = headers.pop("date", "Mon, 04 Mar 2024 10:30:00 +0100")
    message["Message-ID"] = headers.pop("message_id", "<reply-1@meyer.example>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def parse(message: EmailMessage | bytes) -> ParsedMessage:
    return parse_message(message if isinstance(message, bytes) else message.as_bytes())


# Headers


def test_the_headers_a_reply_is_threaded_and_filed_by_are_read() -> None:
    parsed = parse(
        mail(
            from_='"Meyer, Tom" <Tom@Meyer.EXAMPLE>',
            to="Care <care@studio.example>, anna@studio.example",
            cc="Ops <OPS@studio.example>",
            reply_to="Office <office@meyer.example>",
            in_reply_to="<first@studio.example>",
            references="<root@studio.example> <first@studio.example>",
        )
    )
    assert parsed.message_id == "reply-1@meyer.example"
    assert parsed.in_reply_to == "first@studio.example"
    assert parsed.references == ("root@studio.example", "first@studio.example")
    assert parsed.from_address == "tom@meyer.example"
    assert parsed.from_name == "Meyer, Tom"
    assert parsed.to == ("care@studio.example", "anna@studio.example")
    assert parsed.cc == ("ops@studio.example",)
    assert parsed.reply_to == "office@meyer.example"
    assert parsed.sent_at == datetime(2024, 3, 4, 9, 30, tzinfo=UTC)
    assert parsed.auto_reply is False


def test_references_are_read_when_folded_comma_separated_or_without_brackets() -> None:
    raw = (
        b"From: tom@meyer.example\r\n"
        b"Message-ID: <m@x>\r\n"
        b"In-Reply-To: Your message of Monday <b@x.example> (Anna)\r\n"
        b"References: <a@x.example>,\r\n\t<b@x.example>\r\n  garbage <a@x.example>\r\n"
        b"\r\nHi\r\n"
    )
    parsed = parse(raw)
    assert parsed.in_reply_to == "b@x.example"
    assert parsed.references == ("a@x.example", "b@x.example")
    bare = parse(b"From: t@x.example\r\nReferences: a@x.example, b@x.example c@x\r\n\r\nHi\r\n")
    assert bare.references == ("a@x.example", "b@x.example", "c@x")
    assert bare.in_reply_to is None


def test_a_message_without_a_message_id_gets_a_stable_synthetic_one() -> None:
    message = mail()
    del message["Message-ID"]
    raw = message.as_bytes()
    expected = f"{hashlib.sha256(raw).hexdigest()}@goodwill.invalid"
    assert parse(raw).message_id == expected
    assert parse(raw).message_id == parse(raw).message_id


def test_a_missing_or_unreadable_date_gives_no_sent_time() -> None:
    message = mail()
    del message["Date"]
    assert parse(message).sent_at is None
    raw = b"From: t@x.example\r\nDate: the day before yesterday\r\n\r\nHi\r\n"
    assert parse(raw).sent_at is None


def test_a_date_without_a_zone_is_read_as_utc() -> None:
    raw = b"From: t@x.example\r\nDate: Mon, 4 Mar 2024 10:30:00 -0000\r\n\r\nHi\r\n"
    assert parse(raw).sent_at == datetime(2024, 3, 4, 10, 30, tzinfo=UTC)
    offset = parse(mail(date="Mon, 4 Mar 2024 10:30:00 -0500")).sent_at
    assert offset == datetime(2024, 3, 4, 10, 30, tzinfo=timezone(timedelta(hours=-5)))


def test_the_subject_is_decoded_and_its_whitespace_normalised() -> None:
    raw = (
        b"From: =?utf-8?q?Ren=C3=A9_Dupont?= <rene@dupont.example>\r\n"
        b"Subject: =?utf-8?q?Caf=C3=A9?=\r\n  order\t  for   =?iso-8859-1?q?M=FCller?=\r\n"
        b"\r\nHi\r\n"
    )
    parsed = parse(raw)
    assert parsed.subject == "Café order for Müller"
    assert parsed.from_name == "René Dupont"


@pytest.mark.parametrize(
    ("header", "subject"),
    [
        (b"=?iso-8859-1?q?R=E9servation_confirm=E9e?=", "Réservation confirmée"),
        (b"=?windows-1252?q?=93Quote=94_=96_price?=", "“Quote” – price"),
        (b"=?iso-2022-jp?b?GyRCOFw1Uk1NGyhC?=", "顧客様"),
        (b"=?koi8-r?b?8NLJ18XU?=", "Привет"),
        (b"=?gb2312?b?xOO6ww==?=", "你好"),
        (b"caf\xc3\xa9 \xc3\xa0 la carte", "café à la carte"),
        (b"caf\xe9 cr\xe8me", "café crème"),
        (b"=?x-unknown?q?Hello?= there", "Hello there"),
    ],
)
def test_subjects_in_any_declared_or_undeclared_charset_are_decoded(
    header: bytes, subject: str
) -> None:
    raw = b"From: t@x.example\r\nSubject: " + header + b"\r\n\r\nHi\r\n"
    assert parse(raw).subject == subject


@pytest.mark.parametrize(
    ("headers", "auto"),
    [
        ({"Auto_Submitted": "auto-replied"}, True),
        ({"Auto_Submitted": "auto-generated; owner-email=x@y"}, True),
        ({"Auto_Submitted": "no"}, False),
        ({"X_Autoreply": "yes"}, True),
        ({"Precedence": "bulk"}, True),
        ({"Precedence": "auto_reply"}, True),
        ({"Precedence": "junk"}, True),
        ({"Precedence": "list"}, False),
        ({}, False),
    ],
)
def test_automatic_replies_are_recognised(headers: dict[str, str], auto: bool) -> None:
    message = mail("I am out of the office until Monday.", subject="Out of office", **headers)
    assert parse(message).auto_reply is auto


# What is not a mail message


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "no mail headers"),
        (b"just some words\nwithout any headers\n", "no mail headers"),
        (b"\x00\x01\x02\xff\xfe", "no mail headers"),
        (b"Subject: hello\r\nTo: a@b.example\r\n\r\nbody\r\n", "no From header"),
        (b"From: MAILER-DAEMON\r\nSubject: hello\r\n\r\nbody\r\n", "no sender address"),
    ],
)
def test_bytes_that_are_no_mail_message_are_refused_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(MessageUnreadable, match=reason):
        parse_message(raw)


def test_a_sender_without_a_from_address_is_taken_from_the_sender_header() -> None:
    raw = b"From: Undisclosed\r\nSender: bot@meyer.example\r\n\r\nbody\r\n"
    assert parse(raw).from_address == "bot@meyer.example"


def test_a_garbled_message_is_still_read() -> None:
    raw = (
        b"From: Tom <tom@meyer.example>\r\n"
        b"To: ,,, <<>>, undisclosed-recipients:;\r\n"
        b"Subject: =?utf-8?q?broken\r\n"
        b"Content-Type: multipart/mixed\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b"\r\n"
        b"Hello, the boundary is missing.\r\n"
    )
    parsed = parse(raw)
    assert parsed.to == ()
    assert parsed.subject == "=?utf-8?q?broken"
    assert "boundary is missing" in parsed.text


MAIL_PIECES = st.sampled_from(
    [
        b"From: ",
        b"Subject: ",
        b"Content-Type: ",
        b"Content-Transfer-Encoding: ",
        b"References: ",
        b"Date: ",
        b"Content-Disposition: attachment; filename*=",
        b"\r\n",
        b"\r\n\r\n",
        b"--b\r\n",
        b"multipart/mixed; boundary=b",
        b"text/html; charset=",
        b"message/rfc822",
        b"base64",
        b"quoted-printable",
        b"=?utf-8?b?",
        b"?=",
        b"<a@b>",
        b"a@b.example",
    ]
)


@given(st.lists(st.one_of(MAIL_PIECES, st.binary(max_size=12)), max_size=40).map(b"".join))
def test_any_bytes_are_read_or_refused_as_unreadable_never_anything_else(tail: bytes) -> None:
    for raw in (tail, b"From: a@b.example\r\n" + tail):
        try:
            parsed = parse_message(raw)
        except MessageUnreadable:
            continue
        assert "@" in parsed.from_address and parsed.message_id


# Bodies: transfer encodings and charsets


def test_a_quoted_printable_body_is_decoded() -> None:
    raw = (
        b"From: t@x.example\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Caf=C3=A9 at ten, a long line that was soft-wrapped by the sender's client=\r\n"
        b" and continues here. 1 + 1 =3D 2\r\n"
    )
    assert parse(raw).text == (
        "Café at ten, a long line that was soft-wrapped by the sender's client"
        " and continues here. 1 + 1 = 2\n"
    )


def test_a_base64_body_is_decoded() -> None:
    body = base64.encodebytes("Grüße aus München\nTom\n".encode())
    raw = (
        b"From: t@x.example\r\n"
        b'Content-Type: text/plain; charset="UTF-8"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + body
    )
    assert parse(raw).text == "Grüße aus München\nTom\n"


@pytest.mark.parametrize(
    ("charset", "body", "text"),
    [
        ("iso-8859-1", "Très bien, à mardi.".encode("latin-1"), "Très bien, à mardi."),
        ("windows-1252", b"\x93Fine\x94 \x96 \x80100", "“Fine” – €100"),
        ("iso-8859-1", b"\x93Fine\x94", "“Fine”"),  # labelled latin-1, written by Windows
        (
            "iso-2022-jp",
            "ご連絡ありがとうございます。".encode("iso-2022-jp"),
            "ご連絡ありがとうございます。",
        ),
        ("koi8-r", "Спасибо".encode("koi8-r"), "Спасибо"),
        ("gb2312", "谢谢".encode("gb2312"), "谢谢"),
        ("utf-8", "Grüße".encode("cp1252"), "Grüße"),  # declared wrongly
        ("x-no-such-charset", "Grüße".encode(), "Grüße"),
        ("us-ascii", "naïve".encode(), "naïve"),
        ("utf-8", b"bad \xff\xfe bytes \x81", "bad ÿþ bytes \ufffd"),
    ],
)
def test_bodies_are_decoded_from_their_charset_and_a_wrong_one_never_raises(
    charset: str, body: bytes, text: str
) -> None:
    raw = (
        b"From: t@x.example\r\n"
        b"Content-Type: text/plain; charset=" + charset.encode() + b"\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body + b"\r\n"
    )
    assert parse(raw).text.strip() == text


def test_multipart_alternative_keeps_both_the_text_and_the_html() -> None:
    parsed = parse(mail("Plain words.\n", html="<p>Rich <b>words</b>.</p>"))
    assert parsed.text == "Plain words.\n"
    assert parsed.html is not None and "<b>words</b>" in parsed.html
    assert parsed.new_text == "Plain words."


def test_an_html_only_mail_is_read_as_text() -> None:
    html = """<html><head><style>p { color: red; }</style><script>track()</script></head>
    <body><p>Hello&nbsp;Anna &amp; team,</p><p>Line one<br>Line two</p>
    <table><tr><th>Item</th><th>Price</th></tr><tr><td>Chair</td><td>&euro;120</td></tr></table>
    </body></html>"""
    message = EmailMessage()
    message["From"] = "tom@meyer.example"
    message.set_content(html, subtype="html")
    parsed = parse(message)
    assert parsed.html is not None and "<table>" in parsed.html
    lines = parsed.text.splitlines()
    assert lines[:4] == ["Hello Anna & team,", "", "Line one", "Line two"]
    assert [line.split() for line in lines[5:7]] == [["Item", "Price"], ["Chair", "€120"]]
    assert "color" not in parsed.text and "track" not in parsed.text
    assert parsed.new_text == parsed.text


def test_an_html_only_gmail_reply_loses_its_quoted_history() -> None:
    html = (
        '<div dir="ltr">Tuesday works.<br><br>Tom</div><br>'
        '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, Mar 4, 2024 at '
        "10:15\u202fAM Anna Berg &lt;anna@studio.example&gt; wrote:<br></div>"
        '<blockquote class="gmail_quote">Does Tuesday suit?</blockquote></div>'
    )
    message = EmailMessage()
    message["From"] = "tom@meyer.example"
    message.set_content(html, subtype="html")
    parsed = parse(message)
    assert "Does Tuesday suit?" in parsed.text
    assert parsed.new_text == "Tuesday works.\n\nTom"


def test_an_html_only_outlook_reply_loses_its_quoted_history() -> None:
    html = (
        "<html><body><div class=WordSection1><p class=MsoNormal>Tuesday is fine.<o:p></o:p></p>"
        "<div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in'>"
        "<p class=MsoNormal><b>From:</b> Anna Berg &lt;anna@studio.example&gt;<br><b>Sent:</b> "
        "Monday, March 4, 2024 10:15 AM<br><b>To:</b> Tom<br><b>Subject:</b> Visit</p></div></div>"
        "<p class=MsoNormal>Does Tuesday suit?</p></div></body></html>"
    )
    message = EmailMessage()
    message["From"] = "tom@meyer.example"
    message.set_content(html, subtype="html", charset="windows-1252")
    assert parse(message).new_text == "Tuesday is fine."


# Attachments


def test_attachments_are_kept_with_their_bytes_intact() -> None:
    message = mail("The contract is attached.")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="Contract.pdf")
    message.add_attachment(
        "naïve,1\n".encode("latin-1"), maintype="text", subtype="csv", filename="prices.csv"
    )
    parsed = parse(message)
    assert parsed.text == "The contract is attached.\n"
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("Contract.pdf", "application/pdf"),
        ("prices.csv", "text/csv"),
    ]
    assert parsed.attachments[0].content == PDF
    assert parsed.attachments[1].content == "naïve,1\n".encode("latin-1")


def test_an_inline_image_with_a_filename_is_kept_and_one_without_is_not() -> None:
    message = mail("See the logo.", html='<p>See <img src="cid:logo"></p>')
    html_part = message.get_payload()[1]  # type: ignore[index]
    html_part.add_related(PNG, "image", "png", cid="<logo>", filename="logo.png")
    html_part.add_related(PNG, "image", "png", cid="<pixel>")
    parsed = parse(message)
    assert [(a.filename, a.content_type, a.content) for a in parsed.attachments] == [
        ("logo.png", "image/png", PNG)
    ]
    assert parsed.text == "See the logo.\n"


def test_a_forwarded_message_is_kept_whole_as_an_attachment() -> None:
    inner = mail("Original words.", from_="anna@studio.example", subject="Inner")
    message = mail("Forwarding this.")
    message.add_attachment(inner)
    parsed = parse(message)
    assert parsed.text == "Forwarding this.\n"
    (attachment,) = parsed.attachments
    assert attachment.content_type == "message/rfc822"
    assert b"Original words." in attachment.content


def test_an_attachment_filename_is_decoded_and_cannot_name_a_path() -> None:
    raw = (
        b"From: t@x.example\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''..%2F..%2FR%C3%A9sum%C3%A9.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(PDF) + b"--b\r\n"
        b"Content-Type: application/pdf\r\nContent-Disposition: attachment\r\n\r\nx\r\n--b--\r\n"
    )
    parsed = parse(raw)
    assert [a.filename for a in parsed.attachments] == ["Résumé.pdf", "part-3.pdf"]
    assert parsed.attachments[0].content == PDF


# The new text of a reply, from the formats common mail clients write

GMAIL = """\
Thanks, that works for us.

See you Tuesday.

On Mon, Mar 4, 2024 at 10:15 AM Anna Berg <anna@studio.example> wrote:

> Hi Tom,
>
> Does Tuesday at 10 suit you?
>
> Anna
"""

GMAIL_WRAPPED = """\
Yes please.

On Mon, Mar 4, 2024 at 10:15 AM Anna Berg <
anna@studio.example> wrote:

> Does Tuesday suit?
"""

OUTLOOK_DESKTOP = """\
Hello Anna,

Tuesday is fine.

Best regards,
Tom Meyer

From: Anna Berg <anna@studio.example>
Sent: Monday, March 4, 2024 10:15 AM
To: Tom Meyer <tom@meyer.example>
Subject: Visit

Hi Tom,
Does Tuesday at 10 suit you?
"""

OUTLOOK_WEB = """\
Tuesday is fine.

________________________________
From: Anna Berg <anna@studio.example>
Sent: Monday, 4 March 2024 10:15
To: Tom Meyer <tom@meyer.example>
Subject: Visit

Does Tuesday at 10 suit you?
"""

OUTLOOK_GERMAN = """\
Passt.

Von: Anna Berg <anna@studio.example>
Gesendet: Montag, 4. März 2024 10:15
An: Tom Meyer
Betreff: Besuch

Passt Dienstag?
"""

ORIGINAL_MESSAGE = """\
Fine by me.

-----Original Message-----
From: Anna Berg [mailto:anna@studio.example]
Sent: Monday, March 04, 2024 10:15 AM
To: Tom Meyer
Subject: Visit

Does Tuesday suit?
"""

APPLE_MAIL = """\
Perfect.

> On Mar 4, 2024, at 10:15 AM, Anna Berg <anna@studio.example> wrote:
>
> Does Tuesday suit?
"""

IPHONE = """\
Perfect, thank you!

Sent from my iPhone

> On 4 Mar 2024, at 10:15, Anna Berg <anna@studio.example> wrote:
>
> Does Tuesday suit?
"""

THUNDERBIRD_BOTTOM_POSTED = """\
On 04.03.24 10:15, Anna Berg wrote:
> Hi Tom,
> Does Tuesday at 10 suit you?

Yes, Tuesday at 10 is good.

> And shall I bring the samples?

Please do.

--\x20
Tom Meyer
Meyer & Sons
"""

GERMAN = """\
Passt mir gut.

Viele Grüße
Tom

Am Mo., 4. März 2024 um 10:15 Uhr schrieb Anna Berg <anna@studio.example>:
> Passt Dienstag?
"""

FRENCH = """\
Très bien, merci.

Le lun. 4 mars 2024 à 10:15, Anna Berg <anna@studio.example> a écrit :
> Mardi vous convient ?
"""

DUTCH = """\
Prima, tot dinsdag.

Verstuurd vanaf mijn iPhone

Op ma 4 mrt. 2024 om 10:15 schreef Anna Berg <anna@studio.example>:
> Past dinsdag?
"""

SIGNATURE_ONLY = """\
Three things:
- the invoice
- the contract
- the key

Thanks,
Tom
--
Tom Meyer | Meyer & Sons | +31 20 123 4567
"""

FORWARD = """\
---------- Forwarded message ---------
From: Anna Berg <anna@studio.example>
Date: Mon, Mar 4, 2024 at 10:15 AM
Subject: Visit

Does Tuesday suit?
"""


@pytest.mark.parametrize(
    ("body", "new_text"),
    [
        (GMAIL, "Thanks, that works for us.\n\nSee you Tuesday."),
        (GMAIL_WRAPPED, "Yes please."),
        (OUTLOOK_DESKTOP, "Hello Anna,\n\nTuesday is fine.\n\nBest regards,\nTom Meyer"),
        (OUTLOOK_WEB, "Tuesday is fine."),
        (OUTLOOK_GERMAN, "Passt."),
        (ORIGINAL_MESSAGE, "Fine by me."),
        (APPLE_MAIL, "Perfect."),
        (IPHONE, "Perfect, thank you!"),
        (THUNDERBIRD_BOTTOM_POSTED, "Yes, Tuesday at 10 is good.\n\nPlease do."),
        (GERMAN, "Passt mir gut.\n\nViele Grüße\nTom"),
        (FRENCH, "Très bien, merci."),
        (DUTCH, "Prima, tot dinsdag."),
        (SIGNATURE_ONLY, "Three things:\n- the invoice\n- the contract\n- the key\n\nThanks,\nTom"),
        (FORWARD, ""),
        ("Just one line, nothing quoted.\n", "Just one line, nothing quoted."),
    ],
    ids=[
        "gmail",
        "gmail-wrapped-attribution",
        "outlook-desktop",
        "outlook-web",
        "outlook-german",
        "original-message",
        "apple-mail",
        "iphone",
        "thunderbird-bottom-posted",
        "german",
        "french",
        "dutch",
        "signature-delimiter",
        "bare-forward",
        "no-history",
    ],
)
def test_the_new_text_of_a_reply_is_separated_from_history_and_signature(
    body: str, new_text: str
) -> None:
    parsed = parse(mail(body))
    assert parsed.new_text == new_text
    assert parsed.text == body  # the whole body stays readable


def test_a_reply_written_with_windows_line_endings_is_separated_too() -> None:
    assert (
        reply_text(GMAIL.replace("\n", "\r\n")) == "Thanks, that works for us.\n\nSee you Tuesday."
    )


def test_a_greeting_above_an_interleaved_reply_is_kept() -> None:
    body = "Hi Anna,\n\nOn Monday, Anna Berg wrote:\n> Tuesday?\n\nYes.\n\n> Samples?\n\nNo need.\n"
    assert reply_text(body) == "Hi Anna,\n\nYes.\n\nNo need."
