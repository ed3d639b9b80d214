"""`goodwill user ...`: staff who log in to the dashboard and use the API, their passwords,
sessions and tokens. Whoever runs the command line holds the database, so it acts as the owner;
its changes are audited as done by "command line"."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from goodwill.cli.context import err, out, state
from goodwill.cli.terminal import shown
from goodwill.domain.access import ROLES
from goodwill.domain.audit import Actor

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
    from goodwill.store.staff import add_user

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
            min_length=int(st.settings.accounts["password_min_length"]),
        )
        out.print(f"added {shown(user.role)} {shown(user.email)}")


@app.command("token")
def token(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user the token acts as.")],
    label: Annotated[str, typer.Option(help="What the token is for (its name).")] = "cli",
    scope: Annotated[str, typer.Option(help="read (GET only) or read-write.")] = "read-write",
    days: Annotated[
        int | None, typer.Option(min=1, help="Expires after this many days; default never.")
    ] = None,
) -> None:
    """Create an API token for a user (shown once; send it as 'Authorization: Bearer TOKEN').

    Example: goodwill user token ann@shop.example --label "bookkeeping sync" --scope read --days 90
    """
    from datetime import timedelta

    from goodwill.actions.accounts import do_create_token
    from goodwill.store.staff import user_by_email

    st = state(ctx)
    now = st.now()
    with st.store.begin() as session:
        user = user_by_email(session, email)
        secret = do_create_token(
            session,
            Actor.cli(),
            user,
            label=label,
            scope=scope,
            expires_at=None if days is None else now + timedelta(days=days),
            now=now,
        )
        out.print(secret, highlight=False)


@app.command("list")
def list_users(ctx: typer.Context) -> None:
    """List staff users.

    Example: goodwill user list
    """
    from sqlalchemy import select

    from goodwill.store.models import StaffUser

    st = state(ctx)
    table = Table("email", "name", "role", "active")
    with st.store() as session:
        for user in session.execute(select(StaffUser).order_by(StaffUser.email)).scalars():
            table.add_row(
                shown(user.email),
                shown(user.name),
                shown(user.role),
                "yes" if user.active else "no",
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
    from goodwill.store.staff import new_calendar_token, user_by_email

    st = state(ctx)
    with st.store.begin() as session:
        token = new_calendar_token(session, user_by_email(session, email))
    base = base_url or st.settings.public_url or LOCAL_URL
    out.print(shown(f"{base.rstrip('/')}/calendar/{token}.ics"), highlight=False, soft_wrap=True)
    if base == LOCAL_URL:
        err.print(
            f"This link points at {LOCAL_URL}, where `goodwill serve` listens by default, and "
            "works only on this computer: set public_url in the settings file to the address "
            "goodwill is reached at (or pass --base-url), so a calendar app can fetch it.",
            highlight=False,
        )


def _set_active(ctx: typer.Context, email: str, active: bool) -> None:
    from goodwill.actions.accounts import do_set_active
    from goodwill.store.staff import user_by_email

    st = state(ctx)
    with st.store.begin() as session:
        user = do_set_active(
            session, Actor.cli(), "owner", user_by_email(session, email).id, active, now=st.now()
        )
        done = "reactivated" if active else "deactivated (every session and token stopped)"
        out.print(f"{shown(user.email)} {done}", highlight=False)


@app.command("deactivate")
def deactivate(
    ctx: typer.Context, email: Annotated[str, typer.Argument(help="Who may no longer log in.")]
) -> None:
    """Deactivate a user: their sessions end and their API tokens stop working at once.

    Example: goodwill user deactivate sam@shop.example
    """
    _set_active(ctx, email, False)


@app.command("activate")
def activate(
    ctx: typer.Context, email: Annotated[str, typer.Argument(help="Who may log in again.")]
) -> None:
    """Reactivate a deactivated user.

    Example: goodwill user activate sam@shop.example
    """
    _set_active(ctx, email, True)


@app.command("password")
def password(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="Whose password to set.")],
    new: Annotated[
        str,
        typer.Option(
            "--password",
            prompt="New password",
            hide_input=True,
            confirmation_prompt=True,
            envvar="GOODWILL_NEW_PASSWORD",
            help="Asked for when not given (or from GOODWILL_NEW_PASSWORD).",
        ),
    ] = "",
) -> None:
    """Set a user's password (at least 10 characters, not a common one); their sessions end.

    Example: goodwill user password sam@shop.example
    """
    from goodwill.actions.accounts import do_change_password
    from goodwill.store.staff import user_by_email

    st = state(ctx)
    with st.store.begin() as session:
        user = user_by_email(session, email)
        ended = do_change_password(
            session,
            Actor.cli(),
            user,
            current=None,
            new=new,
            now=st.now(),
            accounts=st.settings.accounts,
        )
        out.print(
            f"password set for {shown(user.email)}; {ended} session(s) ended", highlight=False
        )


@app.command("reset-link")
def reset_link(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="Who chooses a new password.")],
    base_url: Annotated[
        str | None, typer.Option(help="Where goodwill is served; default: public_url.")
    ] = None,
) -> None:
    """Print a single-use link (valid one hour) with which a user chooses a new password.

    Example: goodwill user reset-link sam@shop.example --base-url https://care.shop.example
    """
    from goodwill.actions.accounts import do_reset_link
    from goodwill.store.staff import user_by_email

    st = state(ctx)
    base = base_url or st.settings.public_url or "http://127.0.0.1:8000"
    with st.store.begin() as session:
        user_id = user_by_email(session, email).id
        _, secret = do_reset_link(session, Actor.cli(), "owner", user_id, now=st.now())
    out.print(shown(f"{base.rstrip('/')}/reset/{secret}"), highlight=False, soft_wrap=True)


@app.command("invite")
def invite(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="Who is invited.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")] = "staff",
    base_url: Annotated[
        str | None, typer.Option(help="Where goodwill is served; default: public_url.")
    ] = None,
) -> None:
    """Print a single-use invitation link; the invited person sets their name and password.

    Example: goodwill user invite kim@shop.example --role staff
    """
    from goodwill.actions.accounts import do_invite

    st = state(ctx)
    base = base_url or st.settings.public_url or "http://127.0.0.1:8000"
    with st.store.begin() as session:
        secret = do_invite(
            session,
            Actor.cli(),
            "owner",
            email=email,
            new_role=role,
            now=st.now(),
            accounts=st.settings.accounts,
        )
    out.print(shown(f"{base.rstrip('/')}/invite/{secret}"), highlight=False, soft_wrap=True)


@app.command("sessions")
def sessions(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="Whose sessions.")],
    end: Annotated[int | None, typer.Option(help="End the session with this id.")] = None,
    end_all: Annotated[bool, typer.Option("--end-all", help="End every session.")] = False,
) -> None:
    """List a user's dashboard sessions, or end one or all of them.

    Example: goodwill user sessions sam@shop.example --end-all
    """
    from goodwill.actions.accounts import do_end_session
    from goodwill.store.accounts import user_sessions
    from goodwill.store.staff import user_by_email

    st = state(ctx)
    now = st.now()
    with st.store.begin() as session:
        user = user_by_email(session, email)
        rows = user_sessions(session, user.id)
        chosen = [r.id for r in rows] if end_all else ([end] if end is not None else [])
        for session_id in chosen:
            do_end_session(session, Actor.cli(), user.id, session_id, now=now)
        if chosen:
            out.print(f"{len(chosen)} session(s) ended")
            return
        table = Table("id", "since", "last seen", "from")
        for r in rows:
            table.add_row(
                str(r.id),
                r.created_at.isoformat(timespec="minutes"),
                r.last_seen_at.isoformat(timespec="minutes"),
                shown(f"{r.address or ''} {(r.user_agent or '')[:40]}".strip()),
            )
        out.print(table)


@app.command("tokens")
def tokens(
    ctx: typer.Context, email: Annotated[str, typer.Argument(help="Whose API tokens.")]
) -> None:
    """List a user's API tokens: name, scope, expiry and last use (never the secret).

    Example: goodwill user tokens ann@shop.example
    """
    from goodwill.store.staff import user_by_email, user_tokens

    st = state(ctx)
    table = Table("id", "name", "scope", "expires", "last used")
    with st.store() as session:
        for row in user_tokens(session, user_by_email(session, email).id):
            table.add_row(
                str(row.id),
                shown(row.label),
                shown(row.scope),
                row.expires_at.date().isoformat() if row.expires_at else "never",
                row.last_used_at.isoformat(timespec="minutes") if row.last_used_at else "never",
            )
    out.print(table)


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="Whose token.")],
    token_id: Annotated[int, typer.Argument(help="The token's id (see `user tokens`).")],
) -> None:
    """Revoke one API token: it stops opening the API at once.

    Example: goodwill user revoke ann@shop.example 3
    """
    from goodwill.actions.accounts import do_revoke_token
    from goodwill.store.staff import user_by_email

    st = state(ctx)
    with st.store.begin() as session:
        user = user_by_email(session, email)
        do_revoke_token(session, Actor.cli(), user.id, token_id, now=st.now())
    out.print(f"token {token_id} revoked")
