"""`goodwill feedback`: keep what clients say when asked open questions, and see what new and
long-term clients value."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from goodwill.cli.context import out, state
from goodwill.cli.terminal import shown
from goodwill.domain.dates import DateError, parse_date, parse_instant
from goodwill.domain.themes import evaluate
from goodwill.errors import InvalidInput

# goodwill.store.feedback.CHANNELS, written out so that --help does not load the store (a test
# holds them equal).
CHANNELS = ("form", "call", "visit", "email", "cli")

app = typer.Typer(
    help="Listening: open questions, answers kept verbatim, themes compared by tenure.",
    no_args_is_help=True,
)

__all__ = ["app"]

ClientOption = Annotated[str, typer.Option(metavar="ID", help="The client id, as imported.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _read(path: Path, option: str) -> str:
    if str(path) == "-":
        return sys.stdin.read()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"{option}: cannot read {path} ({exc.strerror})", option=option) from exc


@app.command("add")
def add_command(
    ctx: typer.Context,
    client: ClientOption,
    question_text: Annotated[
        str,
        typer.Option("--question", metavar="TEXT", help="The question asked, or a question's key."),
    ],
    answer_file: Annotated[
        Path,
        typer.Option(metavar="FILE", help="The answer, verbatim (- reads standard input)."),
    ],
    at: Annotated[
        str | None, typer.Option(metavar="ISO", help="When the client answered (default: now).")
    ] = None,
    channel: Annotated[
        str, typer.Option(metavar="CHANNEL", help=f"How it was given: {', '.join(CHANNELS)}.")
    ] = "cli",
    as_json: JsonOption = False,
) -> None:
    """Keep a client's answer verbatim, tagged with its themes and their tenure at the time.

    Example: goodwill feedback add --client C-1042 --question miss-us \\
        --answer-file answer.txt --at 2026-11-20T14:30 --channel call
    """
    from goodwill.actions.feedback import add_answer
    from goodwill.store.feedback import list_answers
    from goodwill.store.queries import find_client

    st = state(ctx)
    now = st.now()
    try:
        answered = parse_instant(at, zone=st.settings.zone) if at else now
    except DateError as exc:
        raise InvalidInput(f"--at: {exc}", option="--at") from exc
    text = _read(answer_file, "--answer-file")
    with st.store.begin() as session:
        found = find_client(session, client)
        answer_id = add_answer(
            session,
            st.settings,
            found,
            question_text=question_text,
            answer=text,
            answered_at=answered,
            channel=channel,
            recorded_by="cli",
            now=now,
        )
    with st.store() as session:
        view = next(a for a in list_answers(session, client_id=found.id) if a.id == answer_id)
    if as_json:
        out.print_json(json.dumps(view.as_dict()))
        return
    themes = ", ".join(view.theme_keys) or "no theme"
    tenure = "unknown tenure" if view.tenure_days is None else f"{view.tenure_days} days a client"
    out.print(
        f"Answer {answer_id} kept for {shown(view.client)} ({tenure}): {shown(themes)}",
        highlight=False,
    )


@app.command("list")
def list_command(
    ctx: typer.Context,
    client: Annotated[
        str | None, typer.Option(metavar="ID", help="Only this client's answers.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """List answers, newest first, with the themes found in them.

    Example: goodwill feedback list --client C-1042 --json
    """
    from goodwill.store.feedback import list_answers
    from goodwill.store.queries import find_client

    st = state(ctx)
    with st.store() as session:
        client_id = find_client(session, client).id if client else None
        answers = list_answers(session, client_id=client_id, limit=limit)
    if as_json:
        out.print_json(json.dumps({"answers": [a.as_dict() for a in answers]}))
        return
    if not answers:
        out.print("No answers yet.")
        return
    table = Table("when", "client", "tenure", "themes", "answer")
    for a in answers:
        table.add_row(
            a.answered_at.astimezone(st.settings.zone).date().isoformat(),
            shown(a.client),
            "—" if a.tenure_days is None else f"{a.tenure_days / 365.25:.1f} y",
            shown(", ".join(a.theme_keys)),
            shown(a.answer),
        )
    out.print(table)


@app.command("themes")
def themes_command(
    ctx: typer.Context,
    as_of: Annotated[
        str | None,
        typer.Option(metavar="DATE", help="Count answers given up to this day (default: all)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Compare new clients with long-term ones: each theme's share of their answers, and quotes.

    Tenure is the client's at the time of each answer; the boundaries are the feedback
    setting's new_years and long_term_years.

    Example: goodwill feedback themes --as-of 2026-11-30 --json
    """
    from goodwill.actions.feedback import compare_themes, load_themes

    st = state(ctx)
    until = _until(as_of, st.settings.zone)
    with st.store() as session:
        body = compare_themes(session, st.settings, until=until)
    if as_json:
        out.print_json(json.dumps(body))
        return
    _print_comparison(body, {t.key: t.label for t in load_themes(st.settings)})


def _until(as_of: str | None, zone: Any) -> Any:
    """The end of the ``--as-of`` day in the business's zone (None: up to now)."""
    if not as_of:
        return None
    from goodwill.store.feedback import end_of_day

    try:
        return end_of_day(parse_date(as_of), zone)
    except DateError as exc:
        raise InvalidInput(f"--as-of: {exc}", option="--as-of") from exc


def _print_comparison(body: dict[str, Any], labels: dict[str, str]) -> None:
    groups = body["groups"]
    new, long = groups["new"]["answers"], groups["long_term"]["answers"]
    table = Table(
        "theme",
        f"new clients ({new})",
        f"long-term ({long})",
        "in their words",
        title="What clients value",
    )
    for theme in body["themes"]:
        table.add_row(
            shown(labels.get(theme["theme"], theme["theme"])),
            f"{theme['new_share']:.0%}",
            f"{theme['long_term_share']:.0%}",
            "\n".join(f"“{shown(q)}”" for q in theme["quotes"][:2]),
        )
    out.print(table)


@app.command("ask")
def ask_command(
    ctx: typer.Context,
    client: ClientOption,
    question_key: Annotated[
        str, typer.Option("--question", metavar="KEY", help="The question's key.")
    ],
    in_person: Annotated[
        bool, typer.Option("--in-person", help="Only print the link, to hand over in person.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Ask a client a question now: a personal link by mail (queued in the outbox); print it.

    Without mail settings, for a client without an email address, or with --in-person, the
    link is only printed, to hand over in person (on a card, on the shop's tablet). An archived
    client is not asked, and one who said no to mail from us only in person.

    Example: goodwill feedback ask --client C-1042 --question benefit
    """
    from goodwill.actions.feedback import ask_client, question
    from goodwill.domain.audit import Actor
    from goodwill.store.queries import find_client

    st = state(ctx)
    now = st.now()
    asked_question = question(st.settings, question_key)
    with st.store.begin() as session:
        found = find_client(session, client)
        done = ask_client(
            session,
            st.settings,
            found,
            asked_question,
            actor=Actor.cli(),
            in_person=in_person,
            now=now,
        )
    made, unmailed = done.asked, done.unmailed
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "request_id": made.request_id,
                    "link": made.link,
                    "expires_at": made.expires_at.isoformat(),
                    "mailed": unmailed is None,
                }
            )
        )
        return
    out.print(f"Asked {shown(client)}: {shown(asked_question.text)}", highlight=False)
    out.print(shown(made.link), highlight=False, soft_wrap=True)
    if unmailed is not None:
        hint = "" if st.settings.public_url else " (set public_url to make it a whole address)"
        why = "H" if in_person else f"Not mailed ({shown(unmailed)}): h"
        out.print(f"{why}and this link over in person{hint}.", highlight=False)


@app.command("evaluate")
def evaluate_command(
    ctx: typer.Context,
    labelled: Annotated[
        Path | None,
        typer.Argument(
            metavar="[FILE]",
            help='JSON lines with "answer" and "themes" (a list of keys); by default the answers '
            "held out from the shipped themes' phrases.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """How far each theme in force can be trusted: precision and recall per theme on answers
    people labelled, the held-out answers unless a file is given.

    Example: goodwill feedback evaluate tests/data/feedback.jsonl --json
    """
    from goodwill.actions.topics import held_out_path

    _evaluate(ctx, labelled or held_out_path(), as_json)


def _evaluate(ctx: typer.Context, labelled: Path, as_json: bool) -> None:
    from goodwill.actions.feedback import load_themes
    from goodwill.actions.topics import read_labelled

    st = state(ctx)
    pairs = read_labelled(_read(labelled, "FILE"), source=str(labelled))
    scores = evaluate(pairs, load_themes(st.settings))
    if as_json:
        out.print_json(json.dumps({"answers": len(pairs), "themes": [s.as_dict() for s in scores]}))
        return
    title = f"{len(pairs)} answers"
    table = Table("theme", "labelled", "found", "precision", "recall", title=title)
    for s in scores:
        table.add_row(
            shown(s.theme),
            str(s.true_positives + s.false_negatives),
            str(s.true_positives + s.false_positives),
            f"{s.precision:.2f}",
            f"{s.recall:.2f}",
        )
    out.print(table)


@app.command("topics")
def topics_command(
    ctx: typer.Context,
    as_of: Annotated[
        str | None,
        typer.Option(metavar="DATE", help="Read what was said up to this day (default: all)."),
    ] = None,
    most: Annotated[int, typer.Option(min=2, max=20, help="At most this many topics.")] = 8,
    as_json: JsonOption = False,
) -> None:
    """What clients bring up that nobody listed: topics found in their answers and mail, with
    quotes, new and long-term clients' shares, and how often each came up per month or quarter.

    Example: goodwill feedback topics --as-of 2026-11-30
    """
    from goodwill.actions.topics import find_topics

    st = state(ctx)
    until = _until(as_of, st.settings.zone)
    with st.store() as session:
        found = find_topics(session, st.settings, until=until, max_topics=most)
    if as_json:
        out.print_json(json.dumps({"topics": [t.as_dict() for t in found]}))
        return
    if not found:
        out.print("Too little said yet to find topics (a dozen answers or mails at least).")
        return
    table = Table(
        "topic",
        "texts",
        "new clients",
        "long-term",
        "trend",
        "in their words",
        title="What clients bring up",
    )
    for t in found:
        table.add_row(
            shown(t.name),
            str(t.texts),
            f"{t.new_share:.0%} ({t.new})",
            f"{t.long_term_share:.0%} ({t.long_term})",
            _sparkline([n + lt + o for _, n, lt, o in t.trend]),
            "\n".join(f"“{shown(q)}”" for q in t.quotes[:2]),
        )
    out.print(table)


def _sparkline(counts: list[int]) -> str:
    """Counts per period as a row of bars, the last eight periods."""
    bars = " ▁▂▃▄▅▆▇█"
    recent = counts[-8:]
    top = max(recent, default=0)
    return "".join(bars[round(c / top * 8)] if top else " " for c in recent)
