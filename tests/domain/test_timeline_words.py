"""Every kind of timeline entry in plain words, from its payload and the row it is about now."""

from __future__ import annotations

from goodwill.domain.timeline import (
    FILTER_TYPES,
    HIDDEN,
    Link,
    entry_words,
    filter_of,
    quoted,
)
from goodwill.domain.touchpoints import TOUCH_POINTS


def test_a_message_reads_as_who_wrote_what_and_links_its_conversation() -> None:
    words = entry_words(
        "message.received",
        {"conversation_id": 12, "subject": "Invoice 2041"},
        {"from": "Bram", "text": "Can you resend the invoice?\n\nThanks, Bram"},
    )
    assert words.title == "Message from Bram: “Can you resend the invoice?”"
    assert words.detail == "Subject: Invoice 2041"
    assert words.link == Link("conversation", 12)


def test_a_message_whose_row_is_gone_falls_back_to_its_subject() -> None:
    words = entry_words("message.received", {"conversation_id": 3, "subject": "Hello"}, None)
    assert words.title == "Message from the client: “Hello”"
    assert words.detail == ""


def test_a_reply_names_the_staff_member_who_sent_it() -> None:
    words = entry_words(
        "reply.sent", {}, {"conversation_id": 4, "text": "Sent it again just now.", "by": "Anna"}
    )
    assert words.title == "Reply from Anna: “Sent it again just now.”"
    assert (words.by, words.link) == ("Anna", Link("conversation", 4))


def test_an_sla_breach_says_what_waited_and_links_the_conversation() -> None:
    payload = {
        "conversation_id": 9,
        "subject": "Where is my order?",
        "due_at": "2026-11-20T14:00:00+00:00",
        "policy": "standard",
        "critical": True,
    }
    words = entry_words("sla.breach", payload, None)
    assert words.title == "Waited past our response target: “Where is my order?”"
    assert words.detail == (
        "an answer was due 2026-11-20 14:00 UTC, standard target, in the client's critical window"
    )
    assert words.link == Link("conversation", 9)


def test_a_warning_before_a_breach_and_restated_purchases_are_never_shown() -> None:
    assert {"sla.warning", "purchase.first", "purchase.repeat", "payment.on_time"} <= HIDDEN


def test_a_purchase_reads_as_it_is_now_with_who_served_it() -> None:
    row = {
        "id": "O-7",
        "amount": "120.00 EUR",
        "items": "2 × Boots",
        "channel": "Web shop",
        "served_by": "Anna",
    }
    words = entry_words("order.placed", {"order_id": "O-7", "by": "Olive"}, row)
    assert words.title == "Purchase O-7: 120.00 EUR"
    assert words.detail == "2 × Boots — via Web shop — served by Anna"
    assert words.by == "Olive"


def test_a_removed_purchase_says_so() -> None:
    words = entry_words("order.placed", {"order_id": "O-7"}, None)
    assert (words.title, words.removed) == ("Purchase O-7", True)


def test_an_invoice_shows_whether_it_is_paid() -> None:
    row = {"id": "I-1", "amount": "50.00 USD", "due_on": "2026-01-31", "paid_on": None}
    assert entry_words("invoice.issued", {"invoice_id": "I-1"}, row).detail == (
        "due 2026-01-31, unpaid"
    )
    paid = {**row, "paid_on": "2026-02-03"}
    assert entry_words("invoice.issued", {}, paid).detail == "due 2026-01-31, paid 2026-02-03"


def test_payments_refunds_and_derived_touch_points_read_in_words() -> None:
    assert entry_words("payment.received", {"invoice_id": "I-1", "days_late": 3}, None) == (
        entry_words("payment.received", {"invoice_id": "I-1", "days_late": 3}, None)
    )
    late = entry_words("payment.received", {"invoice_id": "I-1", "days_late": 3}, None)
    assert (late.title, late.detail) == ("Payment for invoice I-1", "3 days late")
    refund = entry_words(
        "order.refunded", {"order_id": "O-1", "amount": "8.00", "currency": "EUR"}, None
    )
    assert refund.title == "Refund on O-1: 8.00 EUR"
    missed = entry_words(
        "purchase.missed",
        {"expected_at": "2026-10-01", "days_overdue": 20, "category": "tea"},
        None,
    )
    assert missed.title == "Missed a regular purchase (tea)"
    anniversary = entry_words("client.anniversary", {"years": 20, "since": "2006-03-01"}, None)
    assert anniversary.title == "20 years as a client"


def test_a_call_reads_the_interaction_as_it_is_now_with_its_author() -> None:
    payload = {
        "interaction_id": 5,
        "kind": "call",
        "summary": "Old text",
        "by": "Anna",
        "by_id": 2,
    }
    row = {"kind": "call", "text": "Asked about the winter coats", "outcome": "Will visit Friday"}
    words = entry_words("service.interaction", payload, row)
    assert words.title == "Call: “Asked about the winter coats”"
    assert words.detail == "Outcome: Will visit Friday"
    assert words.by == "Anna"


def test_a_removed_call_shows_no_text() -> None:
    payload = {"interaction_id": 5, "kind": "visit", "summary": "private", "by": "Anna"}
    words = entry_words("service.interaction", payload, None)
    assert (words.title, words.removed, words.by) == ("Visit (removed)", True, "Anna")
    assert "private" not in words.title + words.detail


def test_an_interaction_recorded_through_the_api_reads_from_its_payload() -> None:
    words = entry_words("service.interaction", {"kind": "visit", "summary": "Came by"}, None)
    assert words.title == "Visit: “Came by”"


def test_a_note_shows_its_current_text_and_whether_it_is_pinned() -> None:
    row = {"text": "Prefers invoices by post", "pinned": True, "by": "Bea"}
    words = entry_words("note.added", {"interaction_id": 3, "by": "Anna"}, row)
    assert words.title == "Note: “Prefers invoices by post”"
    assert words.detail == "pinned to the top of the page"
    assert words.by == "Anna"  # the author the event recorded
    assert entry_words("note.added", {"interaction_id": 3}, None).removed


def test_a_fact_reads_as_what_was_learned_with_its_kind_date_and_quote() -> None:
    row = {
        "kind": "family",
        "text": "Daughter's wedding in Lisbon",
        "on_date": "2027-06-12",
        "quote": "My daughter is getting married in June!",
        "by": "Anna",
    }
    words = entry_words("fact.added", {"fact_id": 8, "kind": "family", "by": "Anna"}, row)
    assert words.title == "Learned: Daughter's wedding in Lisbon"
    assert words.detail == (
        "Family event, on 2027-06-12 — in their words: “My daughter is getting married in June!”"
    )
    assert words.by == "Anna"


def test_a_removed_fact_keeps_its_kind_and_drops_its_text() -> None:
    words = entry_words("fact.added", {"fact_id": 8, "kind": "sensitivity"}, None)
    assert words.title == "A fact (sensitivity) was noted; it has since been removed"
    assert words.removed


def test_the_day_of_a_dated_fact_reads_as_the_day_coming() -> None:
    payload = {"fact_id": 8, "kind": "family", "text": "Wedding", "on_date": "2027-06-12"}
    row = {"kind": "family", "text": "Daughter's wedding in Lisbon", "on_date": "2027-06-12"}
    words = entry_words("client.life_event", payload, row)
    assert words.title == "The day came: Daughter's wedding in Lisbon"
    assert words.detail == "Family event, on 2027-06-12"
    assert entry_words("client.life_event", payload, None).removed


def test_incidents_link_to_the_incident_with_who_opened_and_how_it_ended() -> None:
    row = {
        "what": "Parcel went to the wrong address",
        "tier": 2,
        "cause": "wrong address",
        "outcome": "Re-sent by courier, fee refunded",
        "by": "Olive",
        "resolved_by": "Anna",
    }
    opened = entry_words("incident.opened", {"incident_id": 4}, row)
    assert opened.title == "Incident opened: Parcel went to the wrong address"
    assert (opened.detail, opened.by, opened.link) == (
        "tier 2, wrong address",
        "Olive",
        Link("incident", 4),
    )
    resolved = entry_words("incident.resolved", {"incident_id": 4}, row)
    assert resolved.detail == "Outcome: “Re-sent by courier, fee refunded”"
    assert resolved.by == "Anna"


def test_record_events_name_their_author() -> None:
    assert entry_words("client.created", {"by": "Anna", "by_id": 2}, None).title == (
        "Added as a client"
    )
    assert entry_words("client.archived", {"by": "Olive"}, None).by == "Olive"
    assert entry_words("client.restored", {"by": "Olive"}, None).title == (
        "Restored from the archive"
    )
    merged = entry_words(
        "client.merged",
        {
            "other_id": 9,
            "other_name": "M. Holloway",
            "other_ref": "C-0099",
            "by": "Olive",
            "moved": {"orders": 3, "conversations": 1, "facts": 0},
        },
        None,
    )
    assert merged.title == "Merged with the record of M. Holloway (C-0099)"
    assert merged.detail == "moved here: 3 purchases, 1 conversation"


def test_feedback_and_follow_ups_read_with_their_outcome() -> None:
    answer = entry_words(
        "feedback.answered",
        {},
        {"question": "What matters most?", "answer": "Being on time", "channel": "call"},
    )
    assert answer.title == "Feedback: “Being on time”"
    assert answer.detail == "asked “What matters most?” — by call"
    done = entry_words(
        "followup.done",
        {},
        {"id": 7, "title": "Call about the late payment", "outcome": "Pays Friday", "by": "Anna"},
    )
    assert done.title == "Follow-up done: Call about the late payment"
    assert (done.detail, done.by, done.link) == (
        "Outcome: “Pays Friday”",
        "Anna",
        Link("followup", 7),
    )
    closed = entry_words("followup.closed", {}, {"id": 8, "title": "Win back", "outcome": None})
    assert closed.title == "Follow-up closed: Win back"


def test_every_touch_point_has_words_and_an_unknown_type_is_still_readable() -> None:
    for kind in TOUCH_POINTS:
        words = entry_words(kind, {}, None)
        assert words.title and "." not in words.title.split(" ")[0], kind
    assert entry_words("shop.visit_logged", {}, None).title == "Shop visit logged"


def test_each_type_belongs_to_one_filter() -> None:
    seen: dict[str, str] = {}
    for name, types in FILTER_TYPES.items():
        for kind in types:
            assert kind not in seen, (kind, seen.get(kind), name)
            seen[kind] = name
    assert filter_of("note.added") == "notes"
    assert filter_of("client.merged") == "all"


def test_a_long_quote_is_cut_at_a_word() -> None:
    text = "word " * 60
    cut = quoted(text, limit=20)
    assert cut == "“word word word word…”"
    assert quoted("") == ""
