"""Import profiles as data: validation with named errors, detection, overrides, row shapes."""

from __future__ import annotations

import tomllib
from zoneinfo import ZoneInfo

import pytest

from goodwill.actions.import_headers import PROFILES
from goodwill.domain.exports import Document, Layout, Problem, RefundDoc, Skipped, read_documents
from goodwill.domain.profiles import detect, parse_profiles
from goodwill.domain.records import Reading
from goodwill.errors import ConfigError

BUILTIN = parse_profiles(
    tomllib.loads(PROFILES.read_text(encoding="utf-8")), source="profiles.toml", builtin=True
)
READING = Reading(zone=ZoneInfo("Europe/Amsterdam"), currency="EUR")


def rows(text: str) -> list[tuple[int, list[str]]]:
    return [(i, line.split(",")) for i, line in enumerate(text.strip().splitlines(), start=1)]


def test_every_builtin_profile_is_detected_from_its_own_telltales_alone() -> None:
    for profile in BUILTIN.values():
        found = detect(BUILTIN, [*profile.detect, "Some other column"])
        assert found is not None and found.profile.name == profile.name
        assert all(d in found.reason for d in profile.detect)


def test_detection_refuses_to_choose_between_two_equally_fitting_profiles() -> None:
    twins = parse_profiles(
        {
            name: {
                "creates": ["orders"],
                "detect": ["Ref", "When"],
                "columns": {"order_id": ["Ref"], "occurred_at": ["When"], "total": ["Sum"]},
            }
            for name in ("till-a", "till-b")
        },
        source="goodwill.toml",
    )
    with pytest.raises(ConfigError, match="fits both till-a and till-b"):
        detect(twins, ["Ref", "When", "Sum"])
    assert detect(twins, ["Something", "Else"]) is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"creates": ["orders"], "detect": ["A"], "columns": {"nope": ["A"]}}, "columns.nope"),
        ({"creates": ["gifts"], "detect": ["A"], "columns": {}}, "creates"),
        ({"creates": ["orders"], "detect": [], "columns": {}}, "detect"),
        (
            {"creates": ["orders"], "detect": ["A"], "columns": {"order_id": ["A"]}},
            "occurred_at",
        ),
        (
            {
                "creates": ["orders"],
                "detect": ["A"],
                "zone": "mars",
                "columns": {"order_id": ["A"], "occurred_at": ["B"], "total": ["C"]},
            },
            "zone",
        ),
        ({"creates": ["orders"], "detect": ["A"], "colour": "red"}, "colour"),
    ],
)
def test_a_wrong_profile_is_refused_naming_the_file_profile_and_key(
    table: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        parse_profiles({"till": table}, source="/etc/goodwill.toml")
    assert "/etc/goodwill.toml: profile till" in caught.value.message


def test_a_business_overrides_one_key_of_a_builtin_profile_and_keeps_the_rest() -> None:
    changed = parse_profiles(
        {"shopify": {"columns": {"client_name": ["Customer"]}, "date_order": "dmy"}},
        source="goodwill.toml",
        base=BUILTIN,
    )
    shopify = changed["shopify"]
    assert shopify.columns["client_name"] == ("Customer",)
    assert shopify.columns["order_id"] == ("Name",) and shopify.builtin
    assert shopify.date_order == "dmy" and shopify.skip_status == ("voided",)


SQUARE = """
Date,Time,Time Zone,Transaction ID,Payment ID,Customer ID,Customer Name,Net Sales,Event Type,Description
10/07/2025,09:15:00,Pacific Time (US & Canada),T1,P1,C9,Dana,$40.00,Payment,Beans
10/08/2025,10:00:00,Pacific Time (US & Canada),T1,P2,C9,Dana,-$10.00,Refund,Beans
10/09/2025,10:00:00,Eastern Time,T2,P3,,,$5.00,Payment,Mug
"""


def test_square_rows_read_with_their_zone_names_and_refund_rows() -> None:
    profile = BUILTIN["square-transactions"]
    text = SQUARE.replace("$40.00", "40.00").replace("-$10.00", "-10.00").replace("$5.00", "5.00")
    header, *data = rows(text)
    items = list(read_documents(Layout.of(profile, header[1]), data, READING))
    (sale,) = [i for i in items if isinstance(i, Document)]
    (refund,) = [i for i in items if isinstance(i, RefundDoc)]
    (problem,) = [i for i in items if isinstance(i, Problem)]
    assert sale.order_id == "T1"
    assert sale.occurred_at.isoformat() == "2025-10-07T16:15:00+00:00"  # 09:15 PDT
    assert sale.amount_minor == 4000 and sale.ref.client_id == "C9"
    assert refund.amount_minor == 1000
    assert refund.order_id == "T1" and not refund.cumulative
    assert problem.line == 4 and problem.column == "client"


def test_a_status_the_profile_leaves_out_skips_every_row_of_the_document() -> None:
    profile = BUILTIN["xero-invoices"]
    text = """
InvoiceNumber,ContactName,InvoiceDate,DueDate,Total,LineAmount,Description,Status,InvoiceAmountDue
INV-1,Harbor Cafe,07/10/2025,21/10/2025,121.00,50.0000,Beans,PAID,0
INV-1,Harbor Cafe,07/10/2025,21/10/2025,121.00,50.0000,Beans,PAID,0
INV-2,Harbor Cafe,08/10/2025,22/10/2025,10.00,10.0000,Mug,DRAFT,10
"""
    header, *data = rows(text)
    paid, draft = list(read_documents(Layout.of(profile, header[1]), data, READING))
    assert isinstance(paid, Document) and len(paid.lines) == 3  # two lines and the tax
    assert [line.key for line in paid.lines][1].endswith("#1")
    assert paid.invoice is not None and paid.invoice.settled and paid.invoice.paid_on is None
    assert str(paid.invoice.issued_on) == "2025-10-07" and paid.amount_minor == 12100
    assert isinstance(draft, Skipped) and draft.lines == (4,) and "DRAFT" in draft.reason
