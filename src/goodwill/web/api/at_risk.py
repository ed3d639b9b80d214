"""Revenue at risk over JSON: the overdue clients the At risk page and its CSV show."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AfterValidator, BeforeValidator

from goodwill.store.at_risk import at_risk_page
from goodwill.web.api.schemas import API_ERRORS, AtRiskOut
from goodwill.web.auth import ApiStaff
from goodwill.web.state import Db, State

router = APIRouter(prefix="/api/v1", tags=["at-risk"], responses=API_ERRORS)
#: The days ``as_of`` may name: a calendar date written YYYY-MM-DD, from 1900 to 2999.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
#: Rows an answer holds unless ``limit`` says otherwise, and the most it may ask for.
LIMIT, MAX_LIMIT = 1_000, 10_000
_DAY = re.compile(r"^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$")


def _iso_day(value: object) -> object:
    """Only a date written YYYY-MM-DD (not a number of seconds, as pydantic would take)."""
    if isinstance(value, str) and not _DAY.fullmatch(value):
        raise ValueError("write the day as YYYY-MM-DD")
    return value


def _in_range(value: date | None) -> date | None:
    if value is not None and not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"the day must be from {FIRST_DAY} to {LAST_DAY}")
    return value


AsOf = Annotated[
    date | None,
    BeforeValidator(_iso_day),
    AfterValidator(_in_range),
    Query(
        description="The day to judge on, YYYY-MM-DD from 1900 to 2999 "
        "(default: today, business zone).",
        json_schema_extra={"pattern": _DAY.pattern},
    ),
]


@router.get("/at-risk", response_model=list[AtRiskOut])
def at_risk_api(
    staff: ApiStaff,
    db: Db,
    state: State,
    response: Response,
    as_of: AsOf = None,
    lapsed: Annotated[
        bool, Query(description="Include clients who missed more than cadence.max_cycles.")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows to return.")] = LIMIT,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")] = 0,
) -> list[dict[str, object]]:
    """Overdue clients, most revenue at risk first, ``limit`` rows from ``offset``.

    One row per client's overall rhythm, plus a row per product category a client stopped
    buying while still buying otherwise (``category`` set). The ``X-Total-Count`` header says
    how many rows the whole list has.
    """
    day = as_of or state.today()
    found = at_risk_page(
        db, state.settings, as_of=day, include_lapsed=lapsed, limit=limit, offset=offset
    )
    response.headers["X-Total-Count"] = str(found.count)
    return [row.as_dict() for row in found.rows]
