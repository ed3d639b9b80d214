import random
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goodwill.domain.threading import ThreadHeaders, ThreadMatch, find_thread, normalise_subject


class Store:
    """What the store knows: message ids by conversation, and subjects of one client's recent
    conversations."""

    def __init__(
        self, messages: Mapping[str, int] | None = None, subjects: Mapping[str, int] | None = None
    ) -> None:
        self.messages = dict(messages or {})
        self.subjects = dict(subjects or {})
        self.asked_ids: list[list[str]] = []
        self.asked_subjects: list[str] = []

    def known(self, ids: Sequence[str]) -> Mapping[str, int]:
        self.asked_ids.append(list(ids))
        return {i: self.messages[i] for i in ids if i in self.messages}

    def recent_by_subject(self, key: str) -> int | None:
        self.asked_subjects.append(key)
        return self.subjects.get(key)

    def thread(self, headers: ThreadHeaders) -> ThreadMatch:
        return find_thread(headers, self.known, self.recent_by_subject)


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


def test_in_reply_to_wins_over_references() -> None:
    store = Store({"parent@x.example": 3, "root@x.example": 9})
    match = store.thread(headers(in_reply_to="parent@x.example", references=("root@x.example",)))
    assert match == ThreadMatch(3, "in-reply-to")


def test_references_thread_a_reply_whose_in_reply_to_is_missing() -> None:
    store = Store({"root@x.example": 4})
    match = store.thread(headers(references=("root@x.example", "middle@x.example")))
    assert match == ThreadMatch(4, "references")


def test_references_thread_a_reply_whose_in_reply_to_is_unknown() -> None:
    store = Store({"root@x.example": 4})
    match = store.thread(
        headers(in_reply_to="lost@x.example", references=("root@x.example", "lost@x.example"))
    )
    assert match == ThreadMatch(4, "references")


def test_the_nearest_known_reference_wins() -> None:
    store = Store({"root@x.example": 1, "middle@x.example": 2})
    match = store.thread(
        headers(references=("root@x.example", "middle@x.example", "unknown@x.example"))
    )
    assert match == ThreadMatch(2, "references")


def test_the_store_is_asked_once_for_all_ids() -> None:
    store = Store()
    store.thread(headers(in_reply_to="b@x", references=("a@x", "b@x"), subject="Hi"))
    assert store.asked_ids == [["b@x", "a@x"]]


def test_a_message_that_names_itself_as_parent_does_not_thread_on_that() -> None:
    store = Store({"new@mail.example": 5})
    match = store.thread(headers(in_reply_to="new@mail.example", subject=""))
    assert match == ThreadMatch(None, "new")


def test_a_subject_joins_a_recent_conversation_of_the_same_client() -> None:
    store = Store(subjects={"visit on tuesday": 11})
    match = store.thread(headers(subject="Re: Visit on Tuesday"))
    assert match == ThreadMatch(11, "subject")
    assert store.asked_subjects == ["visit on tuesday"]


def test_a_subject_joins_nothing_when_the_client_has_no_such_conversation() -> None:
    # The callback is scoped to the sender's client: another client's thread is not offered.
    store = Store(subjects={})
    assert store.thread(headers(subject="Re: Visit on Tuesday")) == ThreadMatch(None, "new")


def test_the_subject_is_not_consulted_when_an_id_is_known() -> None:
    store = Store({"first@x": 2}, subjects={"visit on tuesday": 11})
    assert store.thread(headers(in_reply_to="first@x")) == ThreadMatch(2, "in-reply-to")
    assert store.asked_subjects == []


def test_the_subject_decides_when_the_headers_name_only_unknown_messages() -> None:
    store = Store(subjects={"visit on tuesday": 11})
    match = store.thread(headers(in_reply_to="gone@x", references=("gone@x",)))
    assert match == ThreadMatch(11, "subject")


@pytest.mark.parametrize(
    "subject", ["", "   ", "Re:", "Hi", "RE: hello", "Fwd: Question", "(no subject)", "[Acme] Help"]
)
def test_an_empty_or_generic_subject_never_matches(subject: str) -> None:
    store = Store(subjects={"": 1, "hi": 2, "hello": 3, "question": 4, "help": 5, "re:": 6})
    assert store.thread(headers(subject=subject)) == ThreadMatch(None, "new")
    assert store.asked_subjects == []


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


ids = st.text(alphabet="abcdefgh", min_size=1, max_size=4).map(lambda s: f"{s}@x.example")


@given(
    references=st.lists(ids, max_size=8, unique=True),
    conversations=st.dictionaries(ids, st.integers(1, 50), max_size=8),
    shuffle=st.randoms(use_true_random=False),
)
def test_the_nearest_known_parent_decides_whatever_the_order_of_the_others(
    references: list[str], conversations: dict[str, int], shuffle: random.Random
) -> None:
    store = Store(conversations)
    known_positions = [i for i, r in enumerate(references) if r in conversations]
    match = store.thread(headers(references=tuple(references), subject=""))
    if not known_positions:
        assert match == ThreadMatch(None, "new")
        return
    nearest = references[known_positions[-1]]
    assert match == ThreadMatch(conversations[nearest], "references")
    # Reordering every reference before the nearest known one changes nothing.
    before = references[: known_positions[-1]]
    shuffle.shuffle(before)
    reordered = (*before, *references[known_positions[-1] :])
    assert store.thread(headers(references=reordered, subject="")) == match
