"""`GET /healthz`: the web is up, and when the worker last completed a pass and what failed.

Needs no login and shows no client data: instants, step names, error classes and first lines.
It answers 200 whenever the web answers (a monitor's liveness check); ``?worker_within=MINUTES``
turns it into a readiness check that answers 503 when no pass completed in the last MINUTES,
when the last completed pass gave a step up, or when the database cannot be read.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from goodwill.store.worker_runs import describe_error, worker_health
from goodwill.web.state import State

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
#: Without ?worker_within, "stale" means no completed pass for this long (as on the dashboard:
#: a daily `goodwill engine run` from cron is not stale).
STALE_AFTER = timedelta(hours=26)
MAX_MINUTES = 7 * 24 * 60


@router.get(
    "/healthz",
    responses={503: {"description": "?worker_within given and the worker is behind or failing"}},
)
def healthz(
    state: State,
    worker_within: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_MINUTES,
            description="Answer 503 unless a pass completed within this many minutes, "
            "without giving up a step.",
        ),
    ] = None,
) -> JSONResponse:
    """Liveness for load balancers and monitors, with the worker's state; needs no login."""
    now = state.now()
    stale_after = STALE_AFTER if worker_within is None else timedelta(minutes=worker_within)
    body: dict[str, Any] = {"status": "ok"}
    healthy = True
    try:
        with state.sessions() as session:
            health = worker_health(session)
    except SQLAlchemyError as exc:
        error, message = describe_error(exc)
        log.warning("healthz: the database cannot be read: %s: %s", error, message)
        body["database"] = f"unavailable: {error}"
        healthy = False
    else:
        body["worker"] = health.as_dict(now=now, stale_after=stale_after)
        healthy = not health.stale(now=now, after=stale_after) and not health.failing
    if worker_within is not None and not healthy:
        body["status"] = "degraded"
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)
