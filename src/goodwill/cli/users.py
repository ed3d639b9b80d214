"""`goodwill user add|token|list`: staff who log in to the dashboard and use the API."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from goodwill.cli.context import out, state
from goodwill.cli.terminal import shown
from goodwill.domain.access import ROLES
from goodwill.store.models import StaffUser
from goodwill.store.staff import add_user, create_token, new_calendar_token, user_by_email

app = typer.Typer(help="Staff users.", no_args_is_help=True)
#: Where `goodwill serve` listens unless told otherwise.
LOCAL_URL = "http://127.0.0.1:8000"


@app.command("add")
def add(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="Login email.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")] = "staff",
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="GOODWILL_NEW_PASSWORD",
            help="Asked for when not given (or from GOODWILL_NEW_PASSWORD).",
        ),
    ] = "",
    hometown: Annotated[str | None, typer.Option(help="Shown for personal touches.")] = None,
) -> None:
    """Add a staff user who can log in.

    Example: goodwill user add --email ann@shop.example --name "Ann" --role owner
    """
    st = state(ctx)
    with st.store.begin() as session:
        user = add_user(
            session,
            email=email,
            name=name,
            role=role,
            password=password,
            now=st.now(),
            hometown=hometown,
        )
        out.print(f"added {user.role} {user.email}")


@app.command("token")
def token(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user the token acts as.")],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
) -> None:
    """Create an API token for a user (shown once; send it as 'Authorization: Bearer TOKEN').

    Example: goodwill user token ann@shop.example --label "bookkeeping sync"
    """
    st = state(ctx)
    with st.store.begin() as session:
        user = user_by_email(session, email)
        out.print(create_token(session, user, label=label, now=st.now()), highlight=False)


@app.command("list")
def list_users(ctx: typer.Context) -> None:
    """List staff users.

    Example: goodwill user list
    """
    st = state(ctx)
    table = Table("email", "name", "role", "active")
    with st.store() as session:
        for user in session.execute(select(StaffUser).order_by(StaffUser.email)).scalars():
            table.add_row(
                shown(user.email), shown(user.name), user.role, "yes" if user.active else "no"
            )
    out.print(table)


@app.command("calendar-link")
def calendar_link(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="Whose follow-ups the feed shows.")],
    base_url: Annotated[
        str | None,
        typer.Option(
            help="Where goodwill is served (default: the public_url setting, else "
            "http://127.0.0.1:8000, where `goodwill serve` listens)."
        ),
    ] = None,
    rotate: Annotated[
        bool,
        typer.Option("--rotate", hidden=True, help="Accepted for old scripts; always so now."),
    ] = False,
) -> None:
    """Make and print the secret iCalendar feed URL of a user's follow-ups; the old one stops.

    goodwill keeps only the link's SHA-256, so each call makes a new link (subscribe again).

    Example: goodwill user calendar-link sam@shop.example --base-url https://care.shop.example
    """
    st = state(ctx)
    with st.store.begin() as session:
        token = new_calendar_token(session, user_by_email(session, email))
    base = base_url or st.settings.public_url or LOCAL_URL
    out.print(f"{base.rstrip('/')}/calendar/{token}.ics", highlight=False, soft_wrap=True)
