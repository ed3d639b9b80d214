"""`goodwill serve` (the dashboard and API) and `goodwill demo` (a sample business, served)."""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress, TaskID

from goodwill.cli.context import State, err, out, state
from goodwill.cli.terminal import shown
from goodwill.domain.audit import Actor
from goodwill.domain.records import FileKind
from goodwill.errors import NotFound
from goodwill.settings import Settings, data_dir

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from goodwill.demo import DemoFiles

HostOption = Annotated[str, typer.Option(help="Interface to listen on (loopback by default).")]
PortOption = Annotated[int, typer.Option(help="TCP port.")]


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("demo")(demo)


def serve(
    ctx: typer.Context,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Processes serving requests (uvicorn workers).")
    ] = 1,
) -> None:
    """Serve the dashboard and the HTTP API (OpenAPI at /openapi.json).

    On a database with no account yet it first prints where to create the owner's (/setup) and
    a one-time setup code for a browser on another machine.

    Example: goodwill serve --port 8080 --workers 2
    """
    from goodwill.web.server import serve as run_server

    st = state(ctx)
    url = f"http://{host}:{port}"
    for line in setup_code_lines(st.store, url=url, now=st.now()):  # migrates the store too
        out.print(shown(line), highlight=False)
    out.print(shown(f"goodwill is serving on {url}/ (Ctrl+C to stop)"))
    run_server(st.settings, host=host, port=port, workers=workers)


def demo_database(folder: Path, *, pid: int) -> Path:
    """This run's own demo database, ``demo-PID.db`` in ``folder``. The files of demos whose
    process has stopped are removed; a demo still running keeps its own."""
    folder.mkdir(parents=True, exist_ok=True)
    for found in folder.glob("demo-*.db"):
        other = found.stem.removeprefix("demo-")
        if other.isdigit() and (int(other) == pid or not _running(int(other))):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{found}{suffix}").unlink(missing_ok=True)
    return folder / f"demo-{pid}.db"


def _running(pid: int) -> bool:
    """Whether a process with ``pid`` runs on this machine (assumed so where one cannot ask
    without harm: on Windows, signal 0 would end the process)."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def setup_code_lines(store: sessionmaker[Session], *, url: str, now: datetime) -> list[str]:
    """What `goodwill serve` says before serving while nobody has an account: where to make the
    owner's, and a new one-time setup code for a browser on another machine. Nothing otherwise."""
    from goodwill.store.first_run import SETUP_HOURS, needs_owner, new_setup_code

    with store.begin() as session:
        if not needs_owner(session):
            return []
        code = new_setup_code(session, now=now)
    return [
        f"Nobody has an account yet: open {url}/setup in a browser on this machine to create "
        "the owner's.",
        f"From another machine, open /setup there and give this setup code: {code}",
        f"(it works once, for {SETUP_HOURS} hours; each start of goodwill serve makes a new one)",
    ]


def next_step(store: sessionmaker[Session], *, url: str) -> str:
    """What to do after `goodwill init`: make the owner on a new database, else log in."""
    from goodwill.store.first_run import needs_owner

    with store() as session:
        empty = needs_owner(session)
    if empty:
        return (
            f"next: run goodwill serve, then open {url}/setup from this machine, or use the "
            "setup code goodwill serve prints"
        )
    return f"next: run goodwill serve, then log in at {url}/login"


def demo(
    ctx: typer.Context,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    seed: Annotated[int, typer.Option(help="Seed of the sample business.")] = 7,
    clients: Annotated[int, typer.Option(min=20, help="How many clients.")] = 300,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Build the demo, do not serve.")
    ] = False,
) -> None:
    """Build a sample business (several years of clients, purchases, payments) and serve it.

    Without --db each run builds its own SQLite file in the data directory (demo-PID.db, named
    in the output), so two demos at once never touch each other's; the files of demos that have
    stopped are removed by the next run.

    Example: goodwill demo --port 8080
    """
    from goodwill.actions.imports import import_file
    from goodwill.demo import DEMO_PASSWORD, DEMO_STAFF, demo_answers, write_demo_files
    from goodwill.engine.configuration import run_pass

    st = state(ctx)
    own = st.db is None
    if own:
        path = demo_database(data_dir(), pid=os.getpid())
        st = State(db=f"sqlite:///{path}", config=st.config, now_text=st.now_text)
        ctx.find_root().obj = st
    # A Dutch roaster keeps Dutch time and sells in euros, unless the settings say otherwise.
    st._settings = replace(
        st.settings,
        timezone="Europe/Amsterdam" if st.settings.timezone == "UTC" else st.settings.timezone,
        currency=st.settings.currency or "EUR",
    )
    today = st.today()
    _demo_users(st)
    with tempfile.TemporaryDirectory() as tmp:
        files = write_demo_files(Path(tmp), seed=seed, today=today, clients=clients)
        with Progress(console=err) as progress:
            for kind, file in (
                (FileKind.CLIENTS, files.clients),
                (FileKind.PURCHASES, files.purchases),
                (FileKind.PAYMENTS, files.payments),
            ):
                task = progress.add_task(f"importing {kind.value}", total=None)

                def advance(done: int, total: int, task: TaskID = task) -> None:
                    progress.update(task, completed=done, total=total)

                summary = import_file(
                    st.store,
                    st.settings,
                    kind,
                    file,
                    now=st.now(),
                    actor=Actor.cli(),
                    on_progress=advance,
                )
                if summary.errors:
                    raise AssertionError(f"demo data rejected: {summary.errors[:3]}")
        settings = _demo_inbox(st, files)
        # The demo's lost parcels make a systemic failure on purpose: a story, not a fault, so
        # its warning stays out of the build's output (the incidents page shows it).
        told = logging.getLogger("goodwill.actions.incidents")
        level = told.level
        told.setLevel(logging.ERROR)
        try:
            _demo_incidents(st, settings, files)
        finally:
            told.setLevel(level)
        demo_answers(st.store, settings, seed=seed, now=st.now())  # listening (demo/answers.py)
    settings = replace(settings, public_url=settings.public_url or f"http://{host}:{port}")
    _demo_touches(st, settings)
    report = run_pass(st.store, settings, now=st.now())
    email, password = DEMO_STAFF[0][0], DEMO_PASSWORD
    out.print(f"demo business ready in {shown(settings.database_url)}: {report.created} follow-ups")
    if own:
        out.print(
            "(this demo's own file: another demo keeps its own, and the first goodwill demo "
            "after this one stops removes it; pass --db to keep a demo)",
            highlight=False,
        )
    if no_serve:
        return
    out.print(shown(f"open http://{host}:{port}/ and log in as {email} / {password}"))
    from goodwill.web.server import serve as run_server

    run_server(settings, host=host, port=port)


#: The touches the demo business lets goodwill send itself (docs/automation.md); the demo has no
#: mail server, so what they send waits in the outbox (`goodwill mail outbox`).
DEMO_AUTOMATED = (
    "lead-welcome-mail",
    "lead-checking-in",
    "thank-you-first-purchase",
    "birthday-card",
    "birthday-postcard",
)


def _demo_touches(st: State, settings: Settings) -> None:
    from goodwill.actions.touches import switch_touches
    from goodwill.engine.configuration import playbook_for

    playbook = playbook_for(settings)
    with st.store.begin() as session:
        for rule in DEMO_AUTOMATED:
            if playbook.rule(rule) is not None:  # a playbook of one's own may not have it
                switch_touches(
                    session, settings, playbook, rule, on=True, actor=Actor.cli(), now=st.now()
                )


def _demo_inbox(st: State, files: DemoFiles) -> Settings:
    """The demo's mail, received as it would have arrived, with response targets to show."""
    from goodwill.actions.inbox import receive, reply
    from goodwill.demo import DEMO_STAFF, SHOP, demo_mail, write_demo_sla

    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    settings = replace(
        st.settings,
        sla=st.settings.sla or write_demo_sla(folder),
        mail={"from_address": SHOP, **st.settings.mail},
        business_name=st.settings.business_name or "Kade Koffie",
        # a coffee roaster: a shop's options and words, unless the file names another trade
        business_kind=st.settings.business_kind if st.settings.business_kind != "other" else "shop",
        contact_form={**st.settings.contact_form, "enabled": True},  # docs/contact-form.md
    )
    for message in demo_mail(files, now=st.now()):
        got = receive(st.store, settings, message.raw, source="smtp", now=message.at)
        if message.answer and got.conversation_id:
            with st.store.begin() as session:
                reply(
                    session,
                    settings,
                    got.conversation_id,
                    text=message.answer,
                    author_email=DEMO_STAFF[1][0],
                    now=message.at + timedelta(hours=1),
                    actor=Actor.cli(),
                )
    return settings


def _demo_incidents(st: State, settings: Settings, files: DemoFiles) -> None:
    """The demo's incidents, opened, worked and ended at their own times."""
    from goodwill.actions import incidents
    from goodwill.demo import DEMO_STAFF, demo_incidents
    from goodwill.store.incidents import get_incident

    by = DEMO_STAFF[1][0]
    for spec in demo_incidents(files, now=st.now()):
        with st.store.begin() as session:
            at = st.now() - timedelta(days=spec.days)
            made = incidents.open_incident(
                session,
                settings,
                client_ref=spec.client,
                what=spec.what,
                message=spec.message,
                message_time=at if spec.message else None,
                partner=spec.partner,
                cost=spec.cost,
                cause=spec.cause,
                by=by,
                actor=Actor.cli(),
                now=at,
            )
            for n, step in enumerate(spec.steps, start=1):
                when = at + timedelta(minutes=20 * n)
                note = spec.restated if step == "restate" else None
                incidents.record_step(
                    session, made, step, by=by, actor=Actor.cli(), note=note, now=when
                )
                if step == "restate":
                    incidents.confirm_restatement(session, made, by=by, actor=Actor.cli(), now=when)
            if spec.resolved is None:
                continue
            option = None
            if spec.option_index is not None:
                offered = get_incident(session, made).incident.options
                option = str(offered[spec.option_index]["name"]) if offered else None
            done = at + timedelta(hours=3)
            incidents.resolve(
                session,
                settings,
                made,
                outcome=spec.resolved,
                chosen_option=option,
                by=by,
                actor=Actor.cli(),
                now=done,
            )
            if spec.closed:
                if spec.reason is None:
                    incidents.record_step(
                        session,
                        made,
                        "follow_up",
                        by=by,
                        actor=Actor.cli(),
                        now=done + timedelta(days=3),
                    )
                incidents.close(
                    session,
                    made,
                    reason=spec.reason,
                    by=by,
                    actor=Actor.cli(),
                    now=done + timedelta(days=3),
                )


def _demo_users(st: State) -> None:
    from goodwill.demo import DEMO_PASSWORD, DEMO_STAFF
    from goodwill.store.staff import add_user, user_by_email

    with st.store.begin() as session:
        for email, name, role, hometown in DEMO_STAFF:
            try:
                user_by_email(session, email)
            except NotFound:
                add_user(
                    session,
                    email=email,
                    name=name,
                    role=role,
                    password=DEMO_PASSWORD,
                    now=st.now(),
                    hometown=hometown,
                )
