"""The duplicate finder: shared identifiers, similar names at one address or company."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from goodwill.domain.duplicates import Record, company_key, find_pairs, postcode_key


def test_the_same_email_written_differently_makes_a_pair() -> None:
    pairs = find_pairs(
        [
            Record(1, "Anna de Vries", emails=("Anna@Example.com",)),
            Record(2, "A. Vries", emails=("anna@example.com ",)),
            Record(3, "Bram", emails=("bram@example.com",)),
        ]
    )
    assert [(p.first, p.second) for p in pairs] == [(1, 2)]
    assert pairs[0].reasons[0].words == "same email anna@example.com"


def test_a_phone_without_country_code_meets_its_e164_form_in_the_business_country() -> None:
    pairs = find_pairs(
        [Record(1, "Anna", phones=("020 123 4567",)), Record(2, "Bob", phones=("+31201234567",))],
        region="NL",
    )
    assert len(pairs) == 1 and pairs[0].reasons[0].words == "same phone +31201234567"


def test_similar_names_need_the_same_postcode_or_company() -> None:
    records = [
        Record(1, "Margaret Holloway", postcode="1011 AB"),
        Record(2, "Holloway, Margaret", postcode="1011ab"),
        Record(3, "Margaret Holloway", postcode="9999 ZZ"),
        Record(4, "Margret Holloway", company="Acme B.V."),
        Record(5, "Margaret Holloway", company="ACME"),
        Record(6, "Peter Jansen", postcode="1011 AB"),
    ]
    pairs = {(p.first, p.second): p for p in find_pairs(records)}
    assert set(pairs) == {(1, 2), (4, 5)}
    assert pairs[(1, 2)].reasons[0].kind == "name_postcode"
    assert "same postcode 1011" in pairs[(1, 2)].reasons[0].words
    assert pairs[(4, 5)].reasons[0].kind == "name_company"


def test_several_reasons_raise_the_score_and_the_best_pairs_come_first() -> None:
    records = [
        Record(1, "Anna de Vries", emails=("a@x.nl",), postcode="1011AB"),
        Record(2, "Anna de Vries", emails=("a@x.nl",), postcode="1011 AB"),
        Record(3, "Bram Bos", phones=("+31612345678",)),
        Record(4, "B. Bos", phones=("+31 6 12345678",)),
    ]
    pairs = find_pairs(records)
    assert [(p.first, p.second) for p in pairs] == [(1, 2), (3, 4)]
    assert pairs[0].score > pairs[1].score
    assert [r.kind for r in pairs[0].reasons] == ["email", "name_postcode"]


def test_a_shared_mailbox_is_not_a_person() -> None:
    records = [Record(i, f"Client {i}", emails=("info@shop.example",)) for i in range(1, 40)]
    assert find_pairs(records) == []


def test_keys_ignore_spaces_case_and_legal_forms() -> None:
    assert postcode_key(" 1011-ab ") == "1011AB" and postcode_key("") is None
    assert company_key("Acme B.V.") == company_key("acme") == "acme"
    assert company_key("Ltd") is None


def test_the_finder_stays_fast_at_many_clients() -> None:
    records = [
        Record(
            i,
            f"Person{i} Name{i % 997}",
            emails=(f"p{i}@example.com",),
            phones=(f"+3161{i:07d}",),
            postcode=f"{1000 + i % 500} AB",
            company=None if i % 3 else f"Company {i % 2000}",
        )
        for i in range(20_000)
    ]
    records.append(Record(99_999, "Person7 Name7", emails=("p7@example.com",)))
    started = time.perf_counter()
    pairs = find_pairs(records)
    assert time.perf_counter() - started < 20
    assert (7, 99_999) in {(p.first, p.second) for p in pairs}


names = st.text(alphabet="abcdefgh ", min_size=1, max_size=20)


@given(st.lists(st.tuples(names, st.sampled_from(["1011AB", "2000", None])), max_size=25))
def test_pairs_are_ordered_unique_and_never_a_record_with_itself(
    rows: list[tuple[str, str | None]],
) -> None:
    records = [Record(i, name, postcode=pc) for i, (name, pc) in enumerate(rows)]
    pairs = find_pairs(records)
    keys = [(p.first, p.second) for p in pairs]
    assert len(keys) == len(set(keys))
    assert all(a < b for a, b in keys)
    assert all(0 < p.score <= 100 and p.reasons for p in pairs)
    assert [p.score for p in pairs] == sorted((p.score for p in pairs), reverse=True)
    reversed_pairs = find_pairs(list(reversed(records)))
    assert {(p.first, p.second) for p in reversed_pairs} == set(keys)
