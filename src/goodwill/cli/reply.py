"""`goodwill reply check`: run the guardrails on a reply before it is sent."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated

import typer

from goodwill.cli.context import out, state
from goodwill.domain.guardrails import (
    Finding,
    check_reply,
    is_blocked,
)
from goodwill.domain.reply_lexicon import DEFAULT_LEXICON, Lexicon, parse_lexicon
from goodwill.errors import ConfigError, InvalidInput

app = typer.Typer(
    help="Replies: check a reply against the guardrails before it leaves.",
    no_args_is_help=True,
)


def load_lexicon(path: Path | None) -> Lexicon:
    """The default lexicon, extended by a TOML file's ``[guardrails]`` table when given."""
    if path is None:
        return DEFAULT_LEXICON
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        message = f"{path}: cannot read lexicon file ({exc.strerror})"
        raise ConfigError(message, file=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", file=str(path)) from exc
    return parse_lexicon(data, source=str(path))


@app.command("check")
def check(
    ctx: typer.Context,
    client: Annotated[str, typer.Option(metavar="ID", help="The recipient, by imported id.")],
    text_file: Annotated[Path, typer.Option(metavar="FILE", help="The reply text (UTF-8).")],
    partner: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="This conversation's or incident's partner."),
    ] = None,
    incident: Annotated[
        str | None,
        typer.Option(metavar="ID", help="The incident the reply answers: the client waits on us."),
    ] = None,
    lexicon: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="A TOML file whose \\[guardrails] table extends the lexicon."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check a reply for another client's name, a wrong partner, placeholders, deflection and a
    missing next step; exit 1 when a finding blocks the send.

    Example: goodwill reply check --client C-1042 --partner TripFinder --text-file reply.txt
    """
    from goodwill.store.reply_context import reply_context

    try:
        text = text_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        message = f"--text-file: cannot read {text_file} ({exc})"
        raise InvalidInput(message, option="--text-file") from exc
    if not text.strip():
        raise InvalidInput(f"--text-file: {text_file} is empty", option="--text-file")
    words = load_lexicon(lexicon)
    with state(ctx).store() as session:
        context = reply_context(session, client, partner=partner, incident=incident)
    findings = check_reply(text, context, words)
    blocked = is_blocked(findings)
    if as_json:
        report = {"blocked": blocked, "findings": [f.as_dict() for f in findings]}
        out.print_json(json.dumps(report, ensure_ascii=False))
    else:
        out.print(_report(text, findings, blocked), markup=False, highlight=False)
    if blocked:
        raise typer.Exit(1)


def _report(text: str, findings: list[Finding], blocked: bool) -> str:
    lines = []
    for f in findings:
        line = text.count("\n", 0, f.start) + 1
        column = f.start - (text.rfind("\n", 0, f.start) + 1) + 1
        lines.append(f"{f.severity:5}  {f.code:20}  {f'{line}:{column}':6}  {f.message}")
    warnings = sum(1 for f in findings if f.severity == "warn")
    if blocked:
        lines.append("blocked: this reply must not be sent as it is")
    elif warnings:
        lines.append(f"ok to send after a reason to override {warnings} warning(s)")
    else:
        lines.append("ok: no findings")
    return "\n".join(lines)
