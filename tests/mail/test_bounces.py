"""Bounces are read from the delivery reports mail servers send back (RFC 3464): which message,
and what the server said; delay warnings and ordinary mail are not bounces."""

from __future__ import annotations

from goodwill.mail.bounces import read_bounce

ORIGINAL = (
    "From: Ana Kade at Kade Koffie <care@kade.example>\r\n"
    "To: Ann Arbor <gone@client.example>\r\n"
    "Subject: Thank you for your first order\r\n"
    "Message-ID: <1700.1.99.touch.7@kade.example>\r\n"
)


def report(action: str, original_type: str = "message/rfc822") -> bytes:
    original = ORIGINAL + ("\r\nDear Ann,\r\n" if original_type == "message/rfc822" else "")
    return (
        "From: MAILER-DAEMON@mx.client.example (Mail Delivery System)\r\n"
        "To: care@kade.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "Message-ID: <dsn-1@mx.client.example>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.client.example\r\n\r\n"
        "Final-Recipient: rfc822; gone@client.example\r\n"
        f"Action: {action}\r\n"
        "Status: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <gone@client.example>: Recipient address rejected\r\n"
        f"\r\n--B\r\nContent-Type: {original_type}\r\n\r\n{original}\r\n--B--\r\n"
    ).encode()


def test_a_failed_delivery_names_the_message_and_the_servers_words() -> None:
    bounce = read_bounce(report("failed"))
    assert bounce is not None
    assert bounce.message_ids == ("<1700.1.99.touch.7@kade.example>",)
    assert bounce.reason == (
        "gone@client.example: smtp; 550 5.1.1 <gone@client.example>: Recipient address rejected"
    )


def test_a_report_quoting_only_the_headers_is_read_too() -> None:
    bounce = read_bounce(report("failed", "text/rfc822-headers"))
    assert bounce is not None and bounce.message_ids == ("<1700.1.99.touch.7@kade.example>",)


def test_a_delay_warning_and_ordinary_mail_are_not_bounces() -> None:
    assert read_bounce(report("delayed")) is None
    assert read_bounce(ORIGINAL.encode() + b"\r\nHello\r\n") is None
    assert read_bounce(b"\xff\xfe not mail at all") is None
