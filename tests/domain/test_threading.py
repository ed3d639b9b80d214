import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goodwill.domain.threading import (
    ThreadHeaders,
    ThreadMatch,
    find_thread,
    normalise_subject,
    subject_key,
)


class Store:
    """What the store keeps: every id of each conversation (seen or placeholder), and the
    conversations of one client holding a message under a subject (header-less or not)."""

    def __init__(
        self,
        ids: Mapping[str, int] | None = None,
        subjects: Mapping[str, int] | None = None,
        headerless: Mapping[str, int] | None = None,
    ) -> None:
        self.ids = dict(ids or {})
        self.subjects = dict(subjects or {})
        self.headerless = dict(headerless or {})
        self.asked_ids: list[list[str]] = []
        self.asked_subjects: list[tuple[str, bool]] = []

    def known(self, ids: Sequence[str]) -> Mapping[str, int]:
        self.asked_ids.append(list(ids))
        return {i: self.ids[i] for i in ids if i in self.ids}

    def same_subject(self, key: str, headerless_only: bool) -> Collection[int]:
        self.asked_subjects.append((key, headerless_only))
        found = {self.headerless[key]} if key in self.headerless else set()
        if not headerless_only and key in self.subjects:
            found.add(self.subjects[key])
        return found

    def thread(self, headers: ThreadHeaders) -> ThreadMatch:
        return find_thread(headers, self.known, self.same_subject)


def headers(
    *,
    in_reply_to: str | None = None,
    references: tuple[str, ...] = (),
    subject: str = "Visit on Tuesday",
    message_id: str = "new@mail.example",
) -> ThreadHeaders:
    return ThreadHeaders(message_id, in_reply_to, references, subject)


def test_a_reply_joins_the_conversation_of_the_message_it_answers() -> None:
    store = Store({"first@studio.example": 7})
    match = store.thread(headers(in_reply_to="first@studio.example"))
    assert match == ThreadMatch(7, "in-reply-to")


def test_references_thread_a_reply_whose_in_reply_to_is_unknown() -> None:
    store = Store({"root@x.example": 4})
    match = store.thread(
        headers(in_reply_to="lost@x.example", references=("root@x.example", "lost@x.example"))
    )
    assert match == ThreadMatch(4, "references")


def test_the_store_is_asked_once_for_the_own_id_and_all_parents_nearest_first() -> None:
    store = Store()
    store.thread(headers(in_reply_to="b@x", references=("a@x", "b@x"), subject="Hi"))
    assert store.asked_ids == [["new@mail.example", "b@x", "a@x"]]


def test_a_reply_to_a_missing_message_finds_the_placeholder_another_reply_left() -> None:
    # Two replies to a root that never arrived: the first kept the root's id as a placeholder.
    store = Store({"root@x": 3, "first-reply@x": 3})
    match = store.thread(headers(in_reply_to="root@x", references=("root@x",), subject=""))
    assert match == ThreadMatch(3, "in-reply-to")


def test_a_parent_arriving_after_its_reply_joins_the_reply_by_its_own_id() -> None:
    store = Store({"parent@x": 8})
    match = store.thread(headers(message_id="parent@x", subject=""))
    assert match == ThreadMatch(8, "answered-before")


def test_a_message_linking_two_conversations_merges_them_into_the_earliest() -> None:
    # Its own id was left by one reply, its parent's by another branch: one thread.
    store = Store({"parent@x": 9, "grandparent@x": 4})
    match = store.thread(headers(message_id="parent@x", in_reply_to="grandparent@x", subject=""))
    assert match == ThreadMatch(4, "in-reply-to", merged=(9,))


def test_references_naming_three_conversations_merge_all_into_the_lowest() -> None:
    store = Store({"a@x": 12, "b@x": 5, "c@x": 30})
    match = store.thread(headers(references=("a@x", "b@x", "c@x"), subject=""))
    assert match == ThreadMatch(5, "references", merged=(12, 30))


def test_a_message_that_names_itself_as_parent_does_not_thread_on_that() -> None:
    match = Store().thread(headers(in_reply_to="new@mail.example", subject=""))
    assert match == ThreadMatch(None, "new")


def test_a_header_less_message_joins_the_clients_messages_under_its_subject() -> None:
    store = Store(subjects={"visit on tuesday": 11})
    match = store.thread(headers(subject="Re: Visit on Tuesday"))
    assert match == ThreadMatch(11, "subject")
    assert store.asked_subjects == [("visit on tuesday", False)]


def test_a_reply_with_headers_joins_by_subject_only_header_less_messages() -> None:
    # The subject says something only where the headers said nothing, on either side.
    store = Store(subjects={"visit on tuesday": 11})
    assert store.thread(headers(in_reply_to="gone@x")) == ThreadMatch(None, "new")
    assert store.asked_subjects == [("visit on tuesday", True)]
    store = Store(headerless={"visit on tuesday": 6})
    assert store.thread(headers(in_reply_to="gone@x")) == ThreadMatch(6, "subject")


def test_a_subject_and_a_known_parent_in_two_conversations_merge_them() -> None:
    store = Store({"root@x": 2}, headerless={"visit on tuesday": 7})
    match = store.thread(headers(in_reply_to="root@x"))
    assert match == ThreadMatch(2, "in-reply-to", merged=(7,))


def test_a_subject_joins_nothing_when_the_client_has_no_such_message() -> None:
    assert Store().thread(headers(subject="Re: Visit on Tuesday")) == ThreadMatch(None, "new")


@pytest.mark.parametrize(
    "subject", ["", "   ", "Re:", "Hi", "RE: hello", "Fwd: Question", "(no subject)", "[Acme] Help"]
)
def test_an_empty_or_generic_subject_never_matches(subject: str) -> None:
    store = Store(subjects={"": 1, "hi": 2, "hello": 3, "question": 4, "help": 5, "re:": 6})
    assert store.thread(headers(subject=subject)) == ThreadMatch(None, "new")
    assert store.asked_subjects == []
    assert subject_key(subject) is None


@pytest.mark.parametrize(
    ("subject", "key"),
    [
        ("Re: Re: Fwd: Visit on Tuesday", "visit on tuesday"),
        ("RE: FW: Visit on Tuesday", "visit on tuesday"),
        ("AW: WG: Besuch am Dienstag", "besuch am dienstag"),
        ("SV: Antw: Invoice 42", "invoice 42"),
        ("Réf: Visite", "visite"),
        ("TR: RE: Visite", "visite"),
        ("[Acme] Re: [support]  Invoice   42 ", "invoice 42"),
        ("Re[2]: Re(3): Invoice", "invoice"),
        ("re:fwd:invoice", "invoice"),
        ("Invoice: March", "invoice: march"),
        ("Reminder: March", "reminder: march"),
        ("Visit on Tuesday", "visit on tuesday"),
        ("", ""),
    ],
)
def test_subjects_are_normalised_without_their_reply_and_forward_prefixes(
    subject: str, key: str
) -> None:
    assert normalise_subject(subject) == key


# -- whole threads, delivered in any order --------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    headers: ThreadHeaders
    client: str
    day: int
    thread: int  # the thread it was written in (what the conversations should be)


@dataclass
class Kept:
    conversation: int
    client: str | None = None
    key: str | None = None
    day: int = 0
    answers: bool = False


class Inbox:
    """An inbox in memory doing what the store does with ``find_thread``'s answer: keep ids,
    merge the conversations a message links, open one when it links none."""

    WINDOW = 30

    def __init__(self) -> None:
        self.ids: dict[str, Kept] = {}
        self.next_id = 1

    def file(self, mail: Mail) -> None:
        def same_subject(key: str, headerless_only: bool) -> set[int]:
            return {
                k.conversation
                for k in self.ids.values()
                if k.client == mail.client
                and k.key == key
                and abs(k.day - mail.day) <= self.WINDOW
                and not (headerless_only and k.answers)
            }

        def known(ids: Sequence[str]) -> dict[str, int]:
            return {i: self.ids[i].conversation for i in ids if i in self.ids}

        match = find_thread(mail.headers, known, same_subject)
        conversation = match.conversation_id
        if conversation is None:
            conversation, self.next_id = self.next_id, self.next_id + 1
        for kept in self.ids.values():
            if kept.conversation in match.merged:
                kept.conversation = conversation
        parents = mail.headers.parents
        self.ids[mail.headers.message_id] = Kept(
            conversation, mail.client, subject_key(mail.headers.subject), mail.day, bool(parents)
        )
        for parent in parents:
            self.ids.setdefault(parent, Kept(conversation))

    def conversations(self, mails: Sequence[Mail]) -> set[frozenset[str]]:
        groups: dict[int, set[str]] = {}
        for m in mails:
            groups.setdefault(self.ids[m.headers.message_id].conversation, set()).add(
                m.headers.message_id
            )
        return {frozenset(g) for g in groups.values()}


@st.composite
def thread_sets(draw: st.DrawFn) -> list[Mail]:
    """Threads of several clients: replies to any earlier message, some roots never arriving,
    some mail programs dropping References or every header (the subject then carries them)."""
    mails: list[Mail] = []
    for t in range(draw(st.integers(1, 5))):
        client = draw(st.sampled_from(["ana", "ben", "cleo"]))
        subject = f"Order {t}"
        root_missing = draw(st.booleans())
        written: list[tuple[str, tuple[str, ...]]] = [(f"m{t}.0@x", ())]
        for i in range(1, draw(st.integers(1, 6))):
            parent_id, parent_refs = written[draw(st.integers(0, len(written) - 1))]
            written.append((f"m{t}.{i}@x", (*parent_refs, parent_id)))
        for i, (message_id, refs) in enumerate(written):
            if i == 0 and root_missing:
                continue
            style = draw(st.sampled_from(["full", "full", "in-reply-to only", "no headers"]))
            if style == "no headers" and (i == 0 or root_missing):
                style = "full"  # a message with nothing to say would be a thread of its own
            in_reply_to = refs[-1] if refs and style != "no headers" else None
            references = refs if style == "full" else ()
            line = ThreadHeaders(
                message_id, in_reply_to, references, f"Re: {subject}" if i else subject
            )
            mails.append(
                Mail(
                    line,
                    client
                    if (i == 0 or style == "no headers")
                    else draw(st.sampled_from(["ana", "ben", "cleo"])),
                    day=t * 2 + i,
                    thread=t,
                )
            )
    return mails


@settings(max_examples=200, deadline=None)
@given(mails=thread_sets(), order=st.randoms(use_true_random=False))
def test_reordered_delivery_of_whole_threads_gives_the_same_conversations(
    mails: list[Mail], order: random.Random
) -> None:
    in_order = Inbox()
    for m in mails:
        in_order.file(m)
    shuffled = list(mails)
    order.shuffle(shuffled)
    reordered = Inbox()
    for m in shuffled:
        reordered.file(m)
    assert reordered.conversations(mails) == in_order.conversations(mails)


@settings(max_examples=100, deadline=None)
@given(mails=thread_sets(), order=st.randoms(use_true_random=False))
def test_each_written_thread_is_one_conversation_and_no_two_are_joined(
    mails: list[Mail], order: random.Random
) -> None:
    shuffled = list(mails)
    order.shuffle(shuffled)
    inbox = Inbox()
    for m in shuffled:
        inbox.file(m)
    written: dict[int, set[str]] = {}
    for m in mails:
        written.setdefault(m.thread, set()).add(m.headers.message_id)
    assert inbox.conversations(mails) == {frozenset(g) for g in written.values()}
