"""`goodwill sla due`: check an SLA policy file by hand against a calendar and one message."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from goodwill.cli.context import out
from goodwill.cli.terminal import shown
from goodwill.domain.calendars import BusinessCalendar
from goodwill.domain.sla import ClientFacts, Clock, Kind, SlaPolicies, Target, parse_policies
from goodwill.domain.zone_names import zone_named
from goodwill.errors import ConfigError, InvalidInput

app = typer.Typer(
    help="SLA policies: response targets by tier, tag or client, and critical windows.",
    no_args_is_help=True,
)


def load_policies(path: Path) -> SlaPolicies:
    """Read and validate an SLA policy file; ConfigError names the file and the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        message = f"{path}: cannot read SLA policy file ({exc.strerror})"
        raise ConfigError(message, file=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", file=str(path)) from exc
    return parse_policies(data, source=str(path))


@app.command("due")
def due(
    calendar: Annotated[Path, typer.Option(metavar="FILE", help="The business calendar TOML.")],
    policy: Annotated[Path, typer.Option(metavar="FILE", help="The SLA policy TOML.")],
    client: Annotated[str, typer.Option(metavar="ID", help="The client id, as imported.")],
    received: Annotated[
        str,
        typer.Option(metavar="ISO", help="When the message arrived (no offset: calendar's zone)."),
    ],
    tier: Annotated[str | None, typer.Option(metavar="TIER", help="The client's tier.")] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(metavar="TAG", help="A tag of the client (repeat for several)."),
    ] = None,
    client_timezone: Annotated[
        str | None, typer.Option(metavar="ZONE", help="The client's own time zone.")
    ] = None,
    next_response: Annotated[
        bool, typer.Option("--next", help="The next-response target instead of the first.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the response due instant and warning instant for one message from a client.

    Example: goodwill sla due --calendar office.toml --policy sla.toml --client C-1042 \\
        --received 2026-03-10T08:20-05:00
    """
    from goodwill.analysis.calendar_files import load_calendar

    business = load_calendar(calendar)
    policies = load_policies(policy)
    try:
        at = datetime.fromisoformat(received)
    except ValueError as exc:
        message = f"--received: {received!r} is not an ISO 8601 date-time"
        raise InvalidInput(message, option="--received") from exc
    if at.tzinfo is None:
        at = at.replace(tzinfo=business.zone)
    if client_timezone is not None and zone_named(client_timezone) is None:
        message = f"--client-timezone: {client_timezone!r} is not a known time zone"
        raise InvalidInput(message, option="--client-timezone")
    facts = ClientFacts(client, tier, frozenset(tag or ()), client_timezone)
    kind: Kind = "next" if next_response else "first"
    target = policies.target_for(facts, kind, at, business=business)
    report = _report(target, kind, at, business)
    if as_json:
        out.print_json(json.dumps(report))
        return
    if target is None:
        out.print(f"No SLA policy applies to client {shown(client)}.", highlight=False)
        return
    lines = [
        f"policy:   {target.policy}"
        + (" (critical window applied)" if target.critical else " (no critical window)"),
        f"target:   {_duration_text(report['target_minutes'])} {kind} response, counted in "
        + ("calendar hours (24/7)" if target.calendar.name == "24/7" else "business hours"),
        f"received: {_both(at, business)}",
        f"warning:  {_both(Clock.start(target, at).warn_at(), business)}"
        + f" (at {target.warn_fraction:.0%} of the target)",
        f"due:      {_both(Clock.start(target, at).due_at(), business)}",
    ]
    out.print("\n".join(lines), highlight=False, markup=False)


def _report(
    target: Target | None, kind: Kind, at: datetime, business: BusinessCalendar
) -> dict[str, Any]:
    clock = Clock.start(target, at) if target is not None else None
    due_at = clock.due_at() if clock is not None else None
    warn_at = clock.warn_at() if clock is not None else None
    return {
        "policy": target.policy if target else None,
        "kind": kind,
        "critical": target.critical if target else False,
        "target_minutes": int(target.duration.total_seconds() // 60) if target else None,
        "received_at": at.astimezone(UTC).isoformat(),
        "due_at": due_at.isoformat() if due_at else None,
        "warn_at": warn_at.isoformat() if warn_at else None,
    }


def _both(instant: datetime | None, business: BusinessCalendar) -> str:
    """An instant in UTC and in the calendar's zone."""
    if instant is None:
        return "-"
    local = instant.astimezone(business.zone).isoformat()
    return f"{instant.astimezone(UTC).isoformat()} ({local} in {business.zone.key})"


def _duration_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return " ".join(
        part for part in (f"{hours}h" if hours else "", f"{rest}m" if rest else "") if part
    )
