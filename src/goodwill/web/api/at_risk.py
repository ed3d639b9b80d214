"""Revenue at risk over JSON: the overdue clients the At risk page and its CSV show."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from goodwill.store.cadence import overdue_clients
from goodwill.web.api.schemas import AtRiskOut, ErrorBody
from goodwill.web.auth import ApiStaff
from goodwill.web.state import Db, State

router = APIRouter(
    prefix="/api/v1",
    tags=["at-risk"],
    responses={
        401: {"model": ErrorBody, "description": "No valid API token."},
        422: {"model": ErrorBody, "description": "A parameter is invalid."},
    },
)


@router.get("/at-risk", response_model=list[AtRiskOut])
def at_risk_api(
    staff: ApiStaff,
    db: Db,
    state: State,
    as_of: Annotated[
        date | None, Query(description="The day to judge on (default: today, business zone).")
    ] = None,
    lapsed: Annotated[
        bool, Query(description="Include clients who missed more than cadence.max_cycles.")
    ] = False,
) -> list[dict[str, object]]:
    """Overdue clients, most revenue at risk first.

    One row per client's overall rhythm, plus a row per product category a client stopped
    buying while still buying otherwise (``category`` set).
    """
    day = as_of or state.today()
    return [
        row.as_dict()
        for row in overdue_clients(db, state.settings, as_of=day, include_lapsed=lapsed)
    ]
