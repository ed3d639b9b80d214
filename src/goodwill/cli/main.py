"""Entry point: global options, error translation (one clear line, a stable exit code)."""

from __future__ import annotations

import copy as copy_module
import importlib
import logging
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import typer

from goodwill import __version__
from goodwill.cli.context import State, err, out
from goodwill.cli.terminal import shown
from goodwill.domain.dates import DateError, parse_instant
from goodwill.errors import GoodwillError, InvalidInput

#: Each module under goodwill.cli with the command words it adds to `goodwill`, in the order
#: help lists them. A group (``goodwill clv fit``) is the module's ``app``; the others add
#: their commands through ``register(app)``. A command loads its own module alone: importing
#: every module and building the whole tree is 0.15 to 0.2 s of each start (a test keeps this map
#: whole).
GROUPS: dict[str, str] = {
    "imports": "import",
    "users": "user",
    "playbook": "playbook",
    "touches": "touches",
    "calendar": "calendar",
    "events": "event",
    "clv": "clv",
    "cadence": "cadence",
    "sla": "sla",
    "reply": "reply",
    "incident": "incident",
    "feedback": "feedback",
    "insights": "insights",
}
REGISTERED: dict[str, tuple[str, ...]] = {
    "clients": ("client", "clients"),
    "followups": ("followup", "followups", "today"),
    "inbox": ("conversation", "inbox"),
    "engine": ("engine", "worker"),
    "serve": ("demo", "serve"),
    "mail": ("mail", "smtpd"),
    "privacy": ("privacy",),
    "backup": ("backup", "restore"),
    "audit": ("audit",),
}
MODULES = (*GROUPS, *REGISTERED)
#: The module that adds each top-level word.
_MODULE_OF = {
    **{word: module for module, word in GROUPS.items()},
    **{word: module for module, words in REGISTERED.items() for word in words},
}


def module_of(word: str) -> str | None:
    """The module that adds the command ``word``; None for ``init`` and unknown words."""
    return _MODULE_OF.get(word)


EXIT_CODES = {"invalid": 2, "config": 2, "not_found": 3, "conflict": 4, "not_allowed": 5}


def _instant(value: str | None) -> str | None:
    """--now is checked as it is read, so that a mistake in it is a usage error."""
    if value is not None:
        try:
            # The business's zone changes the instant, never whether the text is one.
            parse_instant(value, zone=ZoneInfo("UTC"))
        except DateError as exc:
            raise typer.BadParameter(str(exc)) from exc
    return value


def _version(value: bool) -> None:
    if value:
        out.print(f"goodwill {__version__}")
        raise typer.Exit()


def main(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="URL",
            help="Database URL (default: GOODWILL_DATABASE_URL, "
            "then a SQLite file in the data directory).",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            help="TOML configuration file (default: "
            "GOODWILL_CONFIG, then the user config "
            "directory).",
        ),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            metavar="ISO",
            callback=_instant,
            help="Act as if it were this instant (reproducible "
            "output, e.g. 2026-11-23T09:00+01:00).",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress lines.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """goodwill keeps a business's clients for decades.

    --db, --config and --now may also follow the command (goodwill engine run --now ...).

    Example: goodwill --db sqlite:///shop.db clients --search anna
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = State(db=db, config=config, now_text=now)


def init(ctx: typer.Context) -> None:
    """Create the database schema, or upgrade it to this version, and say what comes next.

    Example: goodwill --db postgresql://goodwill@localhost/goodwill init
    """
    from goodwill.cli.context import state
    from goodwill.cli.serve import next_step
    from goodwill.cli.users import LOCAL_URL
    from goodwill.store.database import make_engine, upgrade

    st = state(ctx)
    settings = st.settings
    changed = upgrade(make_engine(settings.database_url))
    out.print(
        "schema upgraded" if changed else "schema is up to date",
        shown(f"({_safe_url(settings.database_url)})"),
    )
    out.print(shown(next_step(st.store, url=settings.public_url or LOCAL_URL)), highlight=False)


def build(modules: Sequence[str] = MODULES) -> typer.Typer:
    """The `goodwill` command line with the commands of ``modules`` (all of them by default)."""
    app = typer.Typer(
        name="goodwill",
        help="goodwill: remember every client, follow up at the right moment, recover well.",
        no_args_is_help=True,
        rich_markup_mode="rich",
        pretty_exceptions_enable=False,
    )
    app.callback()(main)
    app.command()(init)
    for name in modules:
        module = importlib.import_module(f"goodwill.cli.{name}")
        if name in GROUPS:
            app.add_typer(module.app, name=GROUPS[name])
        else:
            module.register(app)
    return app


@cache
def _whole() -> typer.Typer:
    return build()


def __getattr__(name: str) -> Any:
    """``app``, the whole command line, is built when first asked for (tests, help)."""
    if name == "app":
        return _whole()
    raise AttributeError(name)


#: Root options that take a value, so that the value is not read as the command's name.
_VALUED = frozenset({"--db", "--config", "--now"})


def command_word(args: Sequence[str]) -> str | None:
    """The command ``args`` name (``clv`` in ``--db URL clv fit``); None when the root's own
    help or nothing is asked for."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _VALUED:
            skip = True
        elif arg == "--help":
            return None
        elif not arg.startswith("-"):
            return arg
    return None


def _app_for(args: Sequence[str] | None) -> typer.Typer:
    """The command line with only the module the command needs; the whole one for help, an
    unknown word (its usage error lists every command) or no ``args``."""
    word = None if args is None else command_word(args)
    module = None if word is None else module_of(word)
    if module is None and word != "init":
        return _whole()
    return build(() if module is None else (module,))


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


#: Root options also accepted after the command (``goodwill engine run --now ...``); the value
#: given last wins. No command may define an option of the same name (a test checks).
AFTER_COMMAND = ("db", "config", "now")
AFTER_COMMAND_PANEL = "Global options (also before the command)"

# The usage errors of the click that typer runs on (its own copy in typer 0.29+, click before),
# found through the one exception typer exports from it.
_CLICK_EXCEPTION: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)


def _set_on_state(field: str, check: Any) -> Any:
    def callback(ctx: Any, param: Any, value: Any) -> Any:
        if check is not None:
            value = check(ctx, param, value)
        if value is not None:
            setattr(ctx.find_root().obj, {"now": "now_text"}.get(field, field), value)
        return value

    return callback


def command(args: Sequence[str] | None = None) -> Any:
    """The click command `goodwill` runs: the app, with the root's --db, --config and --now also
    on every command, listed in a panel of their own in each command's --help. Given the
    command line's ``args``, only the module of the command they name is loaded."""
    root = typer.main.get_command(_app_for(args))
    shared = [p for p in root.params if p.name in AFTER_COMMAND]

    def visit(group: Any) -> None:
        _name_context_in_usage_errors(group)
        for sub in getattr(group, "commands", {}).values():
            taken = {opt for p in sub.params for opt in p.opts}
            for param in shared:
                if taken.isdisjoint(param.opts):
                    copy = copy_module.copy(param)
                    copy.expose_value = False
                    copy.callback = _set_on_state(param.name, param.callback)
                    if hasattr(copy, "rich_help_panel"):
                        copy.rich_help_panel = AFTER_COMMAND_PANEL
                    sub.params.append(copy)
            visit(sub)

    visit(root)
    return root


def _name_context_in_usage_errors(command: Any) -> None:
    """Click's parser raises some usage errors without the context that knows the usage line."""
    parse_args = command.parse_args

    def parse_args_naming_context(ctx: Any, args: list[str]) -> Any:
        try:
            return parse_args(ctx, args)
        except _CLICK_EXCEPTION as exc:
            if getattr(exc, "ctx", False) is None:
                exc.ctx = ctx  # type: ignore[attr-defined]
            raise

    command.parse_args = parse_args_naming_context


def _usage_error(exc: Exception) -> NoReturn:
    """Click's usage error as the usage line and one line saying what is wrong, exit code 2."""
    ctx = getattr(exc, "ctx", None)
    message = exc.format_message()  # type: ignore[attr-defined]
    if type(exc).__name__ == "NoArgsIsHelpError":  # a bare group: its help is the answer
        if message.strip():  # typer's rich help is printed as it is made, the plain one is not
            out.print(message, markup=False, highlight=False)
        sys.exit(exc.exit_code)  # type: ignore[attr-defined]
    if ctx is not None:
        err.print(ctx.get_usage(), markup=False, highlight=False, soft_wrap=True)
        message = f"{message.rstrip('.')}. See '{ctx.command_path} --help'."
    err.print(f"error: {message}", markup=False, highlight=False, style="red", soft_wrap=True)
    sys.exit(exc.exit_code)  # type: ignore[attr-defined]


def run() -> None:
    """Console-script entry: a usage error or a GoodwillError becomes one line and an exit code."""
    try:
        args = sys.argv[1:]
        code = command(args).main(args, prog_name="goodwill", standalone_mode=False)
    except GoodwillError as exc:
        err.print(
            f"error: {exc.message}", markup=False, highlight=False, style="red", soft_wrap=True
        )
        sys.exit(EXIT_CODES.get(exc.code, 1))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except _CLICK_EXCEPTION as exc:
        _usage_error(exc)
    sys.exit(code if isinstance(code, int) else 0)


__all__ = ["InvalidInput", "build", "command", "command_word", "run"]
