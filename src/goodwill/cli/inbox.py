"""`goodwill inbox` and `goodwill conversation reply|wait|close|reopen`: the support inbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.table import Table

from goodwill.cli.context import err, out, state
from goodwill.cli.terminal import shown
from goodwill.domain.audit import Actor
from goodwill.errors import InvalidInput

if TYPE_CHECKING:
    from goodwill.store.inbox import ConversationView

app = typer.Typer(help="One conversation: reply, wait on the client, close.", no_args_is_help=True)
IdArgument = Annotated[int, typer.Argument(metavar="ID", help="The conversation's id.")]
STATES = {"ok": "", "warning": "[yellow]", "breached": "[red]", "paused": "[dim]", "none": ""}


def register(root: typer.Typer) -> None:
    root.command("inbox")(inbox)
    root.add_typer(app, name="conversation")


def inbox(
    ctx: typer.Context,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status", help="open (owed a reply), waiting, answered, closed; repeatable."
        ),
    ] = None,
    assignee: Annotated[
        str | None, typer.Option("--assignee", metavar="EMAIL", help="Only this person's.")
    ] = None,
    messages: Annotated[
        bool,
        typer.Option(
            "--messages", help="Each message's new text (quotes and signature removed) and text."
        ),
    ] = False,
    whole: Annotated[
        bool,
        typer.Option(
            "--whole", help="With --messages: each message whole, quotes and signature included."
        ),
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List conversations, most urgent first: client, status, response due, assignee.

    Example: goodwill inbox --status open --messages
    """
    from goodwill.store.inbox import list_conversations, with_messages
    from goodwill.store.staff import user_by_email

    st = state(ctx)
    now = st.now()
    with st.store() as session:
        assignee_id = user_by_email(session, assignee).id if assignee else None
        found = list_conversations(
            session, status=status or None, assignee_id=assignee_id, limit=limit
        )
        if messages:
            found = with_messages(session, found)
    if as_json:
        out.print_json(json.dumps([c.as_dict(now, messages=messages) for c in found]))
        return
    zone = st.settings.zone
    table = Table("id", "client", "subject", "status", "response due", "assignee")
    for c in found:
        due = c.sla_due_at.astimezone(zone).strftime("%a %d %b %H:%M") if c.sla_due_at else "—"
        mark = STATES[c.state(now)]
        label = f"{mark}{due} ({c.state(now)}){'[/]' if mark else ''}" if c.sla_due_at else due
        if c.paused:
            label = "[dim]paused[/dim]"
        table.add_row(
            str(c.id),
            f"{shown(c.client_name)} ({shown(c.client_ref)})",
            shown(c.subject) + (" [bold](critical window)[/bold]" if c.sla_critical else ""),
            shown(c.status),
            label,
            shown(c.assignee or "unassigned"),
        )
    out.print(table)
    if messages:
        for c in found:
            _print_messages(c, whole=whole)


def _print_messages(c: ConversationView, *, whole: bool) -> None:
    out.print(f"\n[bold]#{c.id} {shown(c.subject)}[/bold] — {shown(c.client_name)}")
    for m in c.messages:
        arrow = "→" if m.direction == "out" else "←"
        out.print(f"{arrow} {m.sent_at:%Y-%m-%d %H:%M} {shown(m.from_name or m.from_address)}")
        hidden = m.full_text.strip() != m.new_text.strip()
        out.print(m.full_text if whole else m.new_text, markup=False, highlight=False)
        if hidden and not whole:
            out.print("[dim](quoted history or signature left out: --whole shows it)[/dim]")


@app.command("reply")
def reply_command(
    ctx: typer.Context,
    conversation_id: IdArgument,
    text_file: Annotated[
        Path, typer.Option("--text-file", metavar="FILE", help="The reply's text ('-': stdin).")
    ],
    as_: Annotated[str, typer.Option("--as", metavar="EMAIL", help="The staff member who writes.")],
    override_reason: Annotated[
        str | None,
        typer.Option(
            "--override-reason",
            metavar="TEXT",
            help="Send despite the guardrails' warnings, for this reason (kept with the reply).",
        ),
    ] = None,
) -> None:
    """Queue a reply in the client's thread (sent by the outbox) and stop the clock.

    The guardrails check it first: a blocking finding stops it; warnings need --override-reason.

    Example: goodwill conversation reply 12 --text-file answer.txt --as ana@shop.example
    """
    from goodwill.actions.inbox import reply
    from goodwill.actions.tracked_mail import track_reply

    st = state(ctx)
    text = typer.get_text_stream("stdin").read() if str(text_file) == "-" else _read(text_file)
    try:
        with st.store.begin() as session:
            row = reply(
                session,
                st.settings,
                conversation_id,
                text=text,
                author_email=as_,
                now=st.now(),
                actor=Actor.cli(),
                override_reason=override_reason,
            )
            track_reply(session, st.settings, row)
    except InvalidInput as exc:
        found: list[dict[str, object]] = list(exc.fields.get("findings", []))  # type: ignore[call-overload]
        for finding in found:
            err.print(
                f"{finding['severity']}: {finding['code']} at {finding['start']}-"
                f"{finding['end']}: {finding['message']}",
                markup=False,
                highlight=False,
            )
        raise
    out.print(f"reply queued (message {row}); `goodwill mail send` or the worker sends it")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror}", file=str(path)) from exc


@app.command("assign")
def assign_command(
    ctx: typer.Context,
    conversation_id: IdArgument,
    to: Annotated[str, typer.Option("--to", metavar="EMAIL", help="The staff member.")],
) -> None:
    """Give a conversation to another staff member.

    Example: goodwill conversation assign 12 --to ben@shop.example
    """
    from goodwill.actions.inbox import assign

    st = state(ctx)
    with st.store.begin() as session:
        assign(session, conversation_id, to, now=st.now(), actor=Actor.cli())
    out.print(f"conversation {conversation_id}: assigned to {shown(to)}")


@app.command("wait")
def wait(ctx: typer.Context, conversation_id: IdArgument) -> None:
    """Waiting on the client: the response clock pauses until they write.

    Example: goodwill conversation wait 12
    """
    _status(ctx, conversation_id, "waiting")


@app.command("close")
def close(ctx: typer.Context, conversation_id: IdArgument) -> None:
    """Close the conversation: nothing is owed (a new message from the client reopens it).

    Example: goodwill conversation close 12
    """
    _status(ctx, conversation_id, "closed")


@app.command("reopen")
def reopen(ctx: typer.Context, conversation_id: IdArgument) -> None:
    """Owed an answer again; a paused clock resumes.

    Example: goodwill conversation reopen 12
    """
    _status(ctx, conversation_id, "open")


def _status(
    ctx: typer.Context, conversation_id: int, status: Literal["waiting", "closed", "open"]
) -> None:
    from goodwill.actions.inbox import set_status

    st = state(ctx)
    with st.store.begin() as session:
        set_status(session, st.settings, conversation_id, status, now=st.now(), actor=Actor.cli())
    out.print(f"conversation {conversation_id}: {status}")
