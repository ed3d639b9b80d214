"""Whatever bytes arrive, on SQLite and PostgreSQL, the filing path never raises: each message is
stored exactly as it came, then filed, marked failed with a reason, or recognised as a copy."""

from __future__ import annotations

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.failed_mail import failed_mail
from goodwill.actions.inbox import receive
from goodwill.mail.parse import message_id_of, parse_message
from goodwill.settings import Settings
from goodwill.store.models import InboundMail, Message
from tests.conftest import NOW

NAMES = (
    b"From",
    b"To",
    b"Cc",
    b"Reply-To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"In-Reply-To",
    b"References",
    b"Content-Type",
    b"Content-Transfer-Encoding",
    b"Content-Disposition",
    b"MIME-Version",
    b"Auto-Submitted",
)
VALUES = st.one_of(
    st.binary(max_size=60),
    st.binary(min_size=250, max_size=1100),  # longer than the columns it may reach
    st.builds(lambda n: b"N" * n + b" <" + b"a" * n + b"@example.com>", st.integers(200, 400)),
    st.sampled_from(
        [
            b"<a@example.com>",
            b"Ivo <ivo@example.com>",
            b'multipart/mixed; boundary="b"',
            b'text/plain; charset="x-unknown"',
            b"base64",
            b'attachment; filename="a\x00.pdf"',
            b"=?utf-8?q?=FF=00?=",
            b"Mon, 23 Nov 2026 09:00:00 +0000",
        ]
    ),
)
HEADER = st.tuples(st.sampled_from(NAMES), VALUES).map(lambda h: h[0] + b": " + h[1])
MAIL_LIKE = st.builds(
    lambda sender, headers, separator, body: sender + b"\r\n".join(headers) + separator + body,
    st.sampled_from([b"", b"From: Ivo <ivo@example.com>\r\n"]),
    st.lists(HEADER, max_size=10),
    st.sampled_from([b"\r\n\r\n", b"\n\n", b"\r\n", b""]),
    st.binary(max_size=300) | st.sampled_from([b"--b\r\nContent-Type: text/html\r\n\r\n<p>x"]),
)
ANY_BYTES = st.binary(max_size=400) | MAIL_LIKE
OUTCOMES = {"parsed", "failed", "duplicate", "own-reply"}


@hypothesis_settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=ANY_BYTES)
def test_any_bytes_are_stored_and_then_filed_or_marked_failed(
    raw: bytes, store: sessionmaker[Session], settings: Settings
) -> None:
    got = receive(store, settings, raw, source="smtp", now=NOW)
    assert got.status in OUTCOMES
    with store() as session:
        kept = session.get(InboundMail, got.inbound_id)
        assert kept is not None
        if not got.duplicate:
            assert kept.raw == raw
        assert kept.status in OUTCOMES - {"duplicate"}
        assert (kept.status == "failed") == bool(kept.error)
        filed = session.execute(
            select(Message.id).where(Message.inbound_id == got.inbound_id)
        ).all()
        assert len(filed) == (1 if kept.status == "parsed" else 0)
    if got.status == "parsed":  # one parser decides the id: the duplicate check's and filing's
        assert parse_message(raw).message_id == message_id_of(raw)
    assert receive(store, settings, raw, source="imap", now=NOW).duplicate
    assert all(f.reason for f in failed_mail(store, limit=5))
