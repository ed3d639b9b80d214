"""The reply box and its guardrails: findings while typing, a blocked send, a warning sent with a
reason that is kept. Sample clients come from tests/web/sample.py (Margaret is the recipient)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.store.models import Message, Outbox
from tests.web.conftest import csrf_from
from tests.web.test_inbox_http import (  # noqa: F401 - fixtures
    post_form,
    three,
    web_settings,
)


def test_findings_show_while_typing_and_a_placeholder_blocks_the_send(
    logged_in: TestClient,
    seeded: sessionmaker[Session],
    three: dict[str, int],  # noqa: F811
) -> None:
    calm = three["calm"]
    token = csrf_from(logged_in.get(f"/inbox/{calm}").text)
    live = logged_in.post(
        f"/inbox/{calm}/check",
        data={"csrf_token": token, "text": "Dear [First Name], sorry about that."},
        headers={"HX-Request": "true"},
    )
    assert live.status_code == 200
    assert 'data-code="unfilled_placeholder"' in live.text and "Blocks sending" in live.text
    clear = logged_in.post(
        f"/inbox/{calm}/check",
        data={"csrf_token": token, "text": "Hi Margaret, we will wrap it and ship it today."},
    )
    assert "No guardrail findings so far" in clear.text
    blocked = post_form(
        logged_in, f"/inbox/{calm}", f"/inbox/{calm}/reply", {"text": "Dear [First Name], hi."}
    )
    assert blocked.status_code == 422
    assert 'data-code="unfilled_placeholder"' in blocked.text
    assert 'name="override_reason"' not in blocked.text  # a block is not overridden
    blamed = post_form(
        logged_in,
        f"/inbox/{calm}",
        f"/inbox/{calm}/reply",
        {"text": "Dear [First Name], it is not our fault. We ship it today."},
    )
    error = blamed.text.split('id="reply-error">', 1)[1].split("</p>", 1)[0]
    assert "never filled in. &#39;not our fault&#39;" in error  # one sentence per finding
    assert error.endswith("ours to own.")
    assert ".." not in error and ".;" not in error
    with seeded() as session:
        assert session.execute(select(Outbox)).first() is None


def test_a_warning_is_sent_only_with_a_reason_and_the_reason_is_kept(
    logged_in: TestClient,
    seeded: sessionmaker[Session],
    three: dict[str, int],  # noqa: F811
) -> None:
    calm = three["calm"]
    text = "Thank you for letting us know."
    first = post_form(logged_in, f"/inbox/{calm}", f"/inbox/{calm}/reply", {"text": text})
    assert first.status_code == 422
    assert 'data-code="no_next_step"' in first.text and 'name="override_reason"' in first.text
    sent = post_form(
        logged_in,
        f"/inbox/{calm}",
        f"/inbox/{calm}/reply",
        {"text": text, "override_reason": "the order already shipped; nothing is owed"},
    )
    assert sent.status_code == 303
    with seeded() as session:
        (message,) = session.execute(select(Message).where(Message.direction == "out")).scalars()
        assert message.override_reason == "the order already shipped; nothing is owed"
        assert [f["code"] for f in message.findings] == ["no_next_step"]
