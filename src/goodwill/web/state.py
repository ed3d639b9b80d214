"""What every request needs from the app it runs in: settings, the store, the clock.

Views reach it through FastAPI dependencies (never a module global), so two apps with different
databases or clocks can live in one process, as the tests do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.settings_layers import LiveSettings


@dataclass(frozen=True)
class WebState:
    base_settings: Settings
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime]
    live: LiveSettings = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "live", LiveSettings(self.base_settings, self.sessions))

    @property
    def settings(self) -> Settings:
        """The settings in force: the file's, with what the owner saved on the settings page
        (seen by this process within a second of the save, at once after :meth:`refresh`)."""
        return self.live.get()

    def refresh(self, session: Session) -> Settings:
        """Re-read the page's saved settings in ``session`` (after a view saved one)."""
        return self.live.refresh(session)

    def now(self) -> datetime:
        """The clock's time as an aware UTC datetime (a naive clock is a programming error)."""
        value = self.clock()
        if value.tzinfo is None:
            raise ValueError("the web app's clock returned a naive datetime")
        return value.astimezone(UTC)

    def today(self) -> date:
        """Today in the business's time zone: the day derived figures (tenure, lateness) use."""
        return self.now().astimezone(self.settings.zone).date()


def system_clock() -> datetime:
    return datetime.now(UTC)


def get_state(request: Request) -> WebState:
    return cast(WebState, request.app.state.goodwill)


def get_db(state: Annotated[WebState, Depends(get_state)]) -> Iterator[Session]:
    """The request's one database session, passed down to everything the view calls.

    Committed when the view returns without error, before the response is sent (so a redirect
    shows what was written, and a failed commit is the request's error), rolled back when it
    raises. A view that catches an action's error and answers anyway rolls back first.
    """
    session = state.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


State = Annotated[WebState, Depends(get_state)]
#: Ended with the view function (``scope="function"``), not after the response is sent.
Db = Annotated[Session, Depends(get_db, scope="function")]
