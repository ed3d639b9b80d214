"""`goodwill incident assess`: weigh a mistake's stakes for one client and list the options."""

from __future__ import annotations

import json
import logging
import sys
import tomllib
from datetime import datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.markup import escape
from rich.table import Table

from goodwill.cli.context import State, out, state
from goodwill.domain.dates import DateError, parse_instant
from goodwill.domain.money import AmountError, from_minor, parse_amount
from goodwill.domain.recovery_options import Catalog, parse_catalog
from goodwill.domain.stakes import Assessment, IncidentContext, Weights, assess, parse_weights
from goodwill.errors import ConfigError, InvalidInput
from goodwill.store.queries import client_profile, find_client
from goodwill.store.value import client_value

log = logging.getLogger(__name__)

app = typer.Typer(
    help="Incidents: what a mistake means to this client, and how to make it right.",
    no_args_is_help=True,
)


def _toml(path: Path, kind: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read {kind} file ({exc.strerror})", file=str(path)
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", file=str(path)) from exc


def load_weights(path: Path | None) -> Weights:
    """The weights file over the built-in weights; None: the built-in weights."""
    return Weights() if path is None else parse_weights(_toml(path, "weights"), source=str(path))


def load_catalog(path: Path | None) -> Catalog:
    """The options catalog file; None: the shipped ``defaults/recovery.toml``."""
    if path is not None:
        return parse_catalog(_toml(path, "catalog"), source=str(path))
    text = resources.files("goodwill").joinpath("defaults/recovery.toml").read_text("utf-8")
    return parse_catalog(tomllib.loads(text), source="default recovery catalog")


def _instant(text: str, option: str, zone: ZoneInfo) -> datetime:
    try:
        return parse_instant(text, zone=zone)
    except DateError as exc:
        raise InvalidInput(f"{option}: {exc}", option=option) from exc


def _amount(text: str, option: str) -> Decimal:
    try:
        amount = parse_amount(text)
    except AmountError as exc:
        raise InvalidInput(f"{option}: {exc}", option=option) from exc
    if amount < 0:
        raise InvalidInput(f"{option}: must not be negative", option=option)
    return amount


def _message(path: Path | None) -> str | None:
    if path is None:
        return None
    if str(path) == "-":
        return sys.stdin.read()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        message = f"--message-file: cannot read {path} ({exc.strerror})"
        raise InvalidInput(message, option="--message-file") from exc


def _zone(name: str | None, default: ZoneInfo) -> ZoneInfo:
    """The client's own zone when known (their "3pm" is local to them), else the business's."""
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default


def incident_context(
    st: State,
    client_ref: str,
    *,
    what: str,
    message: str | None,
    message_time: str | None,
    deadline: str | None,
    cost: str | None,
    partner: str | None,
    stranded: bool | None,
) -> tuple[IncidentContext, str]:
    """The incident as the domain sees it, with what the store knows of the client.

    Yearly value is the population models' expected spend over the next year when they are
    fitted, else the client's average spend per year so far. Earlier incidents are not stored
    yet and count as none.
    """
    settings, now, today = st.settings, st.now(), st.today()
    with st.store() as session:
        client = find_client(session, client_ref)
        profile = client_profile(session, settings, client, today=today)
        overview = profile.overview
        value = None
        if overview.figures.purchase_count:
            try:
                value = client_value(session, settings, client.id, today=today)
            except InvalidInput as exc:
                log.warning("client %s: no model value (%s)", client.id, exc)
    zone = _zone(profile.timezone, settings.zone)
    spent = from_minor(overview.figures.total_spend_minor, overview.currency)
    yearly: Decimal | None = None
    if value and value.expected_purchases_year is not None and value.expected_spend is not None:
        yearly = Decimal(str(round(value.expected_purchases_year * value.expected_spend, 2)))
    elif spent > 0:
        yearly = (spent / Decimal(str(max(1.0, overview.tenure_years)))).quantize(Decimal("0.01"))
    from goodwill.recovery_dates import deadline_from  # dateparser loads slowly; only here

    found: datetime | None = None
    if deadline is not None:
        found = _instant(deadline, "--deadline", zone)
    else:
        written = _instant(message_time, "--message-time", zone) if message_time else now
        if message:
            found = deadline_from(message, reference=written, zone=zone)
        if found is None:
            found = deadline_from(what, reference=now, zone=zone)
    context = IncidentContext(
        what=what,
        message=message,
        now=now,
        deadline=found,
        cost=_amount(cost, "--cost") if cost is not None else None,
        currency=overview.currency,
        ours=partner is None,
        partner=partner,
        stranded=stranded,
        tenure_years=overview.tenure_years if overview.figures.since else None,
        yearly_value=yearly,
        p_alive=value.p_alive if value else None,
        earlier_incidents=0,
    )
    return context, overview.external_id or f"#{overview.id}"


def _cost(cost: Decimal | None, currency: str) -> str:
    if cost is None:
        return "what the client paid"
    return "free" if cost == 0 else f"{cost:,.2f} {currency}"


@app.command("assess")
def assess_command(
    ctx: typer.Context,
    client: Annotated[str, typer.Option(metavar="ID", help="The client id, as imported.")],
    what: Annotated[str, typer.Option(metavar="TEXT", help="What went wrong, in a sentence.")],
    message_file: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="The client's own words (- reads standard input)."),
    ] = None,
    message_time: Annotated[
        str | None,
        typer.Option(metavar="ISO", help="When the client wrote (default: now)."),
    ] = None,
    deadline: Annotated[
        str | None,
        typer.Option(metavar="ISO", help="The client's deadline (default: from their words)."),
    ] = None,
    cost: Annotated[
        str | None, typer.Option(metavar="AMOUNT", help="What the mistake cost the client.")
    ] = None,
    partner: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="The partner acting for us who made the mistake."),
    ] = None,
    stranded: Annotated[
        bool | None,
        typer.Option(
            "--stranded/--not-stranded",
            help="Whether the client is stranded or blocked now (default: from the words).",
        ),
    ] = None,
    weights: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Weights TOML (default: built in).")
    ] = None,
    catalog: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Options catalog TOML (default: shipped).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the tier, the score, the reasons in plain words and the options; stores nothing.

    Example: goodwill incident assess --client C-1042 --what "our room was given away" \\
        --message-file mail.txt --cost 154
    """
    st = state(ctx)
    chosen_weights, chosen_catalog = load_weights(weights), load_catalog(catalog)
    context, client_id = incident_context(
        st,
        client,
        what=what,
        message=_message(message_file),
        message_time=message_time,
        deadline=deadline,
        cost=cost,
        partner=partner,
        stranded=stranded,
    )
    result = assess(context, chosen_weights, chosen_catalog)
    if as_json:
        body = {
            "client": client_id,
            "deadline": context.deadline.isoformat() if context.deadline else None,
            **result.as_dict(),
        }
        out.print_json(json.dumps(body))
        return
    _print(result, context)


def _print(result: Assessment, context: IncidentContext) -> None:
    out.print(
        f"[bold]Tier {result.tier}[/bold]: {result.tier_name} (score {result.score:g})",
        highlight=False,
    )
    why = Table("points", "why", title="What drove it")
    for factor in result.factors:
        why.add_row(f"{factor.points:g}", escape(factor.text))
    out.print(why)
    options = Table("option", "cost", "who", "fits", title="Options")
    for offer in result.options:
        options.add_row(
            escape(offer.name),
            _cost(offer.cost, context.currency),
            offer.option.authority,
            ", ".join(offer.fits),
        )
    out.print(options)
