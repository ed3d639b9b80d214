"""The message a playbook rule's template makes for one client and touch point.

A rule names a template (``template = "birthday"``); the template is a reply template
(goodwill.actions.replies) with a ``Subject:`` first line. This module checks, without rendering,
that every template a playbook names exists and uses only placeholders the rule's touch point can
fill (``TEMPLATE_FIELDS`` in goodwill.domain.touchpoints), and renders a template's subject and
body for a real client and touch point: the preview calls it, and so will automated sending.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.actions.replies import (
    Placeholders,
    TemplateProblem,
    client_placeholders,
    list_templates,
    render_source,
    split_subject,
)
from goodwill.domain.money import format_money
from goodwill.domain.playbooks import Playbook, Rule
from goodwill.domain.touchpoints import TEMPLATE_GROUPS, TOUCH_POINTS, template_fields
from goodwill.errors import ConfigError, InvalidInput, NotFound
from goodwill.settings import Settings
from goodwill.store.models import Client, Event, Incident, Order, OrderLine, StaffUser
from goodwill.store.queries import overviews_for

__all__ = [
    "Message",
    "PlaceholderUse",
    "check_rule_templates",
    "placeholder_uses",
    "preview_rule",
    "render_message",
    "signer_for",
    "touch_placeholders",
]


@dataclass(frozen=True)
class Message:
    """A rendered template: its subject (None without a ``Subject:`` line) and body."""

    subject: str | None
    body: str


@dataclass(frozen=True)
class PlaceholderUse:
    """``group.field`` (field None for a bare group) used on ``line``; ``guarded`` when it sits
    under an ``{% if ... is defined %}`` (or ``if group``) that tests it."""

    group: str
    field: str | None
    guarded: bool
    line: int

    @property
    def dotted(self) -> str:
        return f"{self.group}.{self.field}" if self.field else self.group


# -- the static check -------------------------------------------------------------------------


def _dotted(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
        return f"{node.node.name}.{node.attr}"
    if (
        isinstance(node, nodes.Getitem)
        and isinstance(node.node, nodes.Name)
        and isinstance(node.arg, nodes.Const)
        and isinstance(node.arg.value, str)
    ):
        return f"{node.node.name}.{node.arg.value}"
    return None


def _tested(test: nodes.Node) -> set[str]:
    """The dotted names an ``if`` test looks at: its body may use them."""
    found = {_dotted(test)} | {_dotted(n) for n in test.find_all((nodes.Name, nodes.Getattr))}
    return {name for name in found if name}


def _uses(node: nodes.Node, guarded: frozenset[str], local: set[str]) -> Iterator[PlaceholderUse]:
    if isinstance(node, nodes.If | nodes.CondExpr):
        test = node.test
        yield from _uses(test, guarded | _tested(test), local)
        inner = guarded | _tested(test)
        if isinstance(node, nodes.If):
            for child in node.body:
                yield from _uses(child, inner, local)
            for child in [*node.elif_, *node.else_]:
                yield from _uses(child, guarded, local)
        else:
            yield from _uses(node.expr1, inner, local)
            if node.expr2 is not None:
                yield from _uses(node.expr2, guarded, local)
        return
    if isinstance(node, nodes.Test) and node.name in ("defined", "undefined"):
        return
    if isinstance(node, nodes.Filter) and node.name == "default" and node.node is not None:
        inner = guarded | {name for name in [_dotted(node.node)] if name}
        yield from _uses(node.node, inner, local)
        for arg in node.args:
            yield from _uses(arg, guarded, local)
        return
    if isinstance(node, nodes.For | nodes.Assign):
        local |= {n.name for n in node.target.find_all(nodes.Name)} | (
            {node.target.name} if isinstance(node.target, nodes.Name) else set()
        )
    dotted = _dotted(node)
    if dotted is not None and not (isinstance(node, nodes.Name) and node.ctx != "load"):
        group, _, field = dotted.partition(".")
        if group not in local:
            safe = dotted in guarded or group in guarded
            yield PlaceholderUse(group, field or None, safe, node.lineno)
        return
    for child in node.iter_child_nodes():
        yield from _uses(child, guarded, local)


def placeholder_uses(source: str, *, name: str) -> list[PlaceholderUse]:
    """Every placeholder the template text uses, read from its syntax tree (nothing runs)."""
    from goodwill.actions.replies import _ENV

    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(
            f"template {name!r}, line {exc.lineno}: {exc.message}", template=name, line=exc.lineno
        ) from exc
    return list(_uses(tree, frozenset(), set()))


def _known_fields() -> dict[str, set[str]]:
    known: dict[str, set[str]] = {group: set() for group in TEMPLATE_GROUPS}
    for kind in TOUCH_POINTS:
        for group, fields in template_fields(kind).items():
            known[group] |= set(fields)
    return known


def _unfillable(use: PlaceholderUse, kind: str, known: dict[str, set[str]]) -> str | None:
    """Why the touch point ``kind`` cannot fill ``use``; None when it can."""
    if use.group not in known:
        return "which is not a placeholder goodwill knows (docs/playbooks.md lists them)"
    if use.field is None:
        return None
    if use.field not in known[use.group]:
        return "which is not a placeholder goodwill knows (docs/playbooks.md lists them)"
    filled = template_fields(kind)[use.group]
    if use.guarded or filled.get(use.field):
        return None
    if use.field in filled:
        return (
            f"which is sometimes empty for the {kind} touch point: guard it with "
            f"{{% if {use.dotted} is defined %}}"
        )
    return f"which the {kind} touch point cannot fill"


def check_rule_templates(playbook: Playbook, settings: Settings, *, source: str) -> None:
    """ConfigError naming the rule and the template when a rule names a template that does not
    exist (shipped or in the ``templates`` directory) or one with a placeholder its touch point
    cannot fill."""
    templates = {t.name: t for t in list_templates(settings)}
    known = _known_fields()
    for rule in playbook.rules:
        if rule.template is None:
            continue

        def error(message: str, rule: Rule = rule, **extra: Any) -> ConfigError:
            return ConfigError(
                f"{source}: rule {rule.name!r}: template: {message}",
                file=source,
                rule=rule.name,
                field="template",
                template=rule.template,
                **extra,
            )

        found = templates.get(rule.template)
        if found is None:
            raise error(
                f"there is no template {rule.template!r}, shipped or in the templates directory"
            )
        try:
            uses = placeholder_uses(found.source, name=found.name)
        except TemplateProblem as exc:
            raise error(exc.message) from exc
        for use in uses:
            why = _unfillable(use, rule.on, known)
            if why is not None:
                raise error(
                    f"{rule.template!r} uses {{{{ {use.dotted} }}}} on line {use.line}, {why}",
                    placeholder=use.dotted,
                )


# -- rendering for a client -------------------------------------------------------------------


def render_message(
    settings: Settings, template: str, context: Mapping[str, Placeholders]
) -> Message:
    """The template ``template`` filled from ``context``, split into subject and body."""
    from goodwill.actions.replies import template as find

    subject, body = split_subject(
        render_source(find(settings, template).source, context, name=template)
    )
    return Message(subject, body)


def signer_for(session: Session, settings: Settings, rule: Rule, client: Client) -> StaffUser:
    """Who signs: the client's owner, or the business owner for rules that go to the owner."""
    from goodwill.engine.staff import Staff

    staff = Staff.load(session, settings)
    wanted = staff.owner_id if rule.assignee.kind == "business_owner" else None
    found = session.get(StaffUser, wanted or client.owner_id or staff.owner_id or 0)
    if found is None:
        raise NotFound("there is no staff member to sign the message: add a user first")
    return found


def _order(session: Session, client_id: int, order_id: object) -> Placeholders:
    order = session.execute(
        select(Order).where(Order.client_id == client_id, Order.external_id == str(order_id))
    ).scalar_one_or_none()
    if order is None:
        return Placeholders("order", {"id": order_id})
    products = session.execute(
        select(OrderLine.product, OrderLine.quantity)
        .where(OrderLine.order_id == order.id, OrderLine.product.is_not(None))
        .order_by(OrderLine.id)
    ).all()
    items = ", ".join(f"{q} × {p}" if q > 1 else str(p) for p, q in products)
    return Placeholders(
        "order",
        {
            "id": order.external_id,
            "amount": format_money(order.amount_minor, order.currency),
            "items": items,
        },
    )


def touch_placeholders(
    session: Session,
    settings: Settings,
    *,
    rule: Rule,
    client_id: int,
    payload: Mapping[str, Any],
    today: date,
) -> dict[str, Placeholders]:
    """The values a rule's template can use for this client and touch point (its payload),
    read now from the store; groups the touch point does not fill are empty."""
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound(f"there is no client {client_id}", client=client_id)
    overview = overviews_for(session, settings, [client.id], today=today).get(client.id)
    signer = signer_for(session, settings, rule, client)
    fields = template_fields(rule.on)
    incident = None
    if "incident_id" in payload and str(payload["incident_id"]).isdigit():
        incident = session.get(Incident, int(payload["incident_id"]))
    return {
        "client": client_placeholders(
            client,
            tenure_years=int(overview.tenure_years) if overview is not None else 0,
            tier=overview.tier if overview is not None else None,
        ),
        "business": Placeholders("business", {"name": settings.business_name}),
        "staff": Placeholders(
            "staff", {"name": signer.name, "first_name": signer.name.split()[0] or None}
        ),
        "order": (
            _order(session, client.id, payload["order_id"])
            if fields["order"] and payload.get("order_id")
            else Placeholders("order")
        ),
        "incident": Placeholders(
            "incident",
            {"what": incident.what, "partner": incident.partner}
            if incident is not None and incident.client_id == client.id
            else None,
        ),
        "touch": Placeholders("touch", {k: payload.get(k) for k in fields["touch"]}),
    }


def _rule(playbook: Playbook, name: str) -> Rule:
    for rule in playbook.rules:
        if rule.name == name:
            return rule
    raise NotFound(
        f"there is no rule {name!r} in the playbook (goodwill playbook show lists them)", rule=name
    )


def _payload(session: Session, rule: Rule, client: Client) -> dict[str, Any]:
    """The client's latest touch point of the rule's kind; for the calendar's touch points, the
    one the client's own dates make when none has happened yet."""
    event = session.execute(
        select(Event)
        .where(Event.client_id == client.id, Event.type == rule.on)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if event is not None:
        return dict(event.payload or {})
    if rule.on == "client.birthday_month" and client.birthday_day and client.birthday_month:
        month = calendar.month_name[client.birthday_month]
        return {"birthday": f"{client.birthday_day} {month}"}
    raise NotFound(
        f"client {client.id} has had no {rule.on} touch point, so rule {rule.name!r} has nothing "
        "to fill its template from: preview it with a client who has",
        rule=rule.name,
        client=client.id,
    )


def preview_rule(
    session: Session,
    settings: Settings,
    playbook: Playbook,
    rule_name: str,
    *,
    client_id: int,
    today: date,
) -> Message:
    """The message rule ``rule_name`` would send to client ``client_id``, from the client's
    latest touch point of the rule's kind."""
    rule = _rule(playbook, rule_name)
    if rule.template is None:
        raise InvalidInput(f"rule {rule.name!r} names no template", field="rule", rule=rule.name)
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound(f"there is no client {client_id}", client=client_id)
    context = touch_placeholders(
        session,
        settings,
        rule=rule,
        client_id=client.id,
        payload=_payload(session, rule, client),
        today=today,
    )
    return render_message(settings, rule.template, context)
