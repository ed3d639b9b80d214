"""`goodwill client add|edit|archive|restore` and `goodwill client contact add`: the record by hand.

Each command reads its options into the record's fields, makes one write (store/client_record.py)
and prints the id it wrote; ``--json`` prints the record. Writes are made as the command line's
actor; ``--by EMAIL`` names the staff user who did it (the author, whose role is then checked).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from goodwill.cli.context import out, state
from goodwill.cli.terminal import shown

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from goodwill.store.models import Client

contact_app = typer.Typer(help="The people at a business client.", no_args_is_help=True)

Ref = Annotated[
    str, typer.Argument(metavar="ID", help="The client id from your files, an email, or #id.")
]
Opt = Annotated[str | None, typer.Option()]
Many = Annotated[list[str] | None, typer.Option()]
By = Annotated[
    str | None, typer.Option("--by", help="The staff user's email who did it (the author).")
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(client_app: typer.Typer) -> None:
    client_app.command("add")(add)
    client_app.command("edit")(edit)
    client_app.command("archive")(archive)
    client_app.command("restore")(restore)
    client_app.add_typer(contact_app, name="contact")


def _fields(
    *,
    name: str | None,
    company: str | None,
    email: list[str] | None,
    phone: list[str] | None,
    street: str | None,
    postcode: str | None,
    city: str | None,
    region: str | None,
    country: str | None,
    timezone: str | None,
    window: str | None,
    channel: str | None,
    language: str | None,
    birthday: str | None,
    hometown: str | None,
    since: str | None,
    partner: str | None,
    owner: str | None,
    consent: str | None,
    consent_at: str | None,
    consent_how: str | None,
) -> dict[str, Any]:
    """The options given, as the record's fields; the first --email or --phone is the primary."""
    values: dict[str, Any] = {
        "name": name,
        "company": company,
        "street": street,
        "postcode": postcode,
        "city": city,
        "region": region,
        "country": country,
        "timezone": timezone,
        "contact_window": window,
        "preferred_channel": channel,
        "language": language,
        "birthday": birthday,
        "hometown": hometown,
        "client_since": since,
        "partner": partner,
        "owner": owner,
        "marketing_consent": consent,
        "consent_at": consent_at,
        "consent_how": consent_how,
    }
    typed = {k: v for k, v in values.items() if v is not None}
    if email:
        typed["email"], typed["other_emails"] = email[0], email[1:]
    if phone:
        typed["phone"], typed["other_phones"] = phone[0], phone[1:]
    return typed


def _print(session: Session, client: Client, verb: str, as_json: bool) -> None:
    from goodwill.store.client_record import client_ref, record_of

    ref = client_ref(client)
    if as_json:
        out.print_json(json.dumps({"id": ref, **record_of(session, client)}))
    else:
        out.print(f"{verb} client {shown(ref)}: {shown(client.name)} (version {client.version})")


def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="The client's name.")],
    company: Opt = None,
    external_id: Annotated[str | None, typer.Option("--id", help="The id in your files.")] = None,
    email: Annotated[
        list[str] | None, typer.Option(help="An email; repeat for more, the first is primary.")
    ] = None,
    phone: Annotated[
        list[str] | None, typer.Option(help="A phone; repeat for more, the first is primary.")
    ] = None,
    street: Opt = None,
    postcode: Opt = None,
    city: Opt = None,
    region: Opt = None,
    country: Annotated[str | None, typer.Option(help="Two letters: NL, US, ...")] = None,
    timezone: Annotated[str | None, typer.Option(help="e.g. Europe/Amsterdam.")] = None,
    window: Annotated[
        str | None, typer.Option(help="Contact window, e.g. 'mon-fri 08:00-10:00'.")
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="Preferred: email, phone, sms, post or visit.")
    ] = None,
    language: Annotated[str | None, typer.Option(help="e.g. nl, en, pt-BR.")] = None,
    birthday: Annotated[
        str | None, typer.Option(help="1980-06-12, or --06-12 without the year.")
    ] = None,
    hometown: Opt = None,
    since: Annotated[str | None, typer.Option(help="Client since (older than the data).")] = None,
    partner: Annotated[str | None, typer.Option(help="The partner they came through.")] = None,
    owner: Annotated[str | None, typer.Option(help="The staff email looking after them.")] = None,
    consent: Annotated[
        str | None, typer.Option(help="Marketing consent: given, withdrawn or unknown.")
    ] = None,
    consent_at: Annotated[str | None, typer.Option(help="When consent was given.")] = None,
    consent_how: Annotated[str | None, typer.Option(help="How it was given.")] = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    """Add a client by hand; prints the id written.

    Example: goodwill client add --name "Ana Lima" --email ana@example.com --phone +351912345678
    """
    from goodwill.domain.audit import Actor
    from goodwill.store.client_record import author_for, create_client

    st = state(ctx)
    typed = _fields(
        name=name, company=company, email=email, phone=phone, street=street,
        postcode=postcode, city=city, region=region, country=country, timezone=timezone,
        window=window, channel=channel, language=language, birthday=birthday,
        hometown=hometown, since=since, partner=partner, owner=owner, consent=consent,
        consent_at=consent_at, consent_how=consent_how,
    )  # fmt: skip
    if external_id is not None:
        typed["external_id"] = external_id
    actor = Actor.cli()
    with st.store.begin() as session:
        author, role = author_for(session, actor, by)
        client = create_client(
            session,
            st.settings,
            typed,
            role=role,
            author=author,
            actor=actor,
            source="cli",
            now=st.now(),
        )
        _print(session, client, "added", as_json)


def edit(
    ctx: typer.Context,
    client_id: Ref,
    name: Opt = None,
    company: Opt = None,
    email: Annotated[
        list[str] | None,
        typer.Option(help="The emails: the first is primary; the others replace the rest."),
    ] = None,
    phone: Annotated[
        list[str] | None,
        typer.Option(help="The phones: the first is primary; the others replace the rest."),
    ] = None,
    street: Opt = None,
    postcode: Opt = None,
    city: Opt = None,
    region: Opt = None,
    country: Opt = None,
    timezone: Opt = None,
    window: Annotated[str | None, typer.Option(help="Contact window.")] = None,
    channel: Annotated[str | None, typer.Option(help="Preferred channel.")] = None,
    language: Opt = None,
    birthday: Opt = None,
    hometown: Opt = None,
    since: Annotated[str | None, typer.Option(help="Client since.")] = None,
    partner: Opt = None,
    owner: Opt = None,
    consent: Annotated[str | None, typer.Option(help="given, withdrawn or unknown.")] = None,
    consent_at: Opt = None,
    consent_how: Opt = None,
    clear: Annotated[
        list[str] | None, typer.Option(help="A field to empty (e.g. --clear region); repeat.")
    ] = None,
    if_version: Annotated[
        int | None,
        typer.Option(help="Refuse (exit 4, saying what changed) unless still at this version."),
    ] = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    """Change a client's fields; those not given stay. Prints the id and the new version.

    Example: goodwill client edit C-1042 --city Porto --window "mon-fri 09:00-12:00" --if-version 3
    """
    from goodwill.domain.audit import Actor
    from goodwill.store.client_record import author_for, edit_client
    from goodwill.store.queries import find_client

    st = state(ctx)
    typed = _fields(
        name=name, company=company, email=email, phone=phone, street=street,
        postcode=postcode, city=city, region=region, country=country, timezone=timezone,
        window=window, channel=channel, language=language, birthday=birthday,
        hometown=hometown, since=since, partner=partner, owner=owner, consent=consent,
        consent_at=consent_at, consent_how=consent_how,
    )  # fmt: skip
    for field in clear or []:
        typed[field.replace("-", "_")] = None
    actor = Actor.cli()
    with st.store.begin() as session:
        client = find_client(session, client_id)
        author, role = author_for(session, actor, by)
        moved = edit_client(
            session,
            st.settings,
            client,
            typed,
            version=if_version,
            role=role,
            author=author,
            actor=actor,
            now=st.now(),
        )
        _print(session, client, "edited" if moved else "unchanged", as_json)


def _archive(ctx: typer.Context, client_id: str, flag: bool, by: str | None, as_json: bool) -> None:
    from goodwill.domain.audit import Actor
    from goodwill.store.client_record import author_for, set_archived
    from goodwill.store.queries import find_client

    st = state(ctx)
    actor = Actor.cli()
    with st.store.begin() as session:
        client = find_client(session, client_id)
        author, role = author_for(session, actor, by)
        set_archived(
            session,
            client,
            flag,
            version=None,
            role=role,
            author=author,
            actor=actor,
            source="cli",
            now=st.now(),
        )
        _print(session, client, "archived" if flag else "restored", as_json)


def archive(ctx: typer.Context, client_id: Ref, by: By = None, as_json: Json = False) -> None:
    """Archive a client: out of the lists and search, no new follow-ups; the history stays.

    Example: goodwill client archive C-1042
    """
    _archive(ctx, client_id, True, by, as_json)


def restore(ctx: typer.Context, client_id: Ref, by: By = None, as_json: Json = False) -> None:
    """Bring an archived client back.

    Example: goodwill client restore C-1042
    """
    _archive(ctx, client_id, False, by, as_json)


@contact_app.command("add")
def contact_add(
    ctx: typer.Context,
    client_id: Ref,
    name: Annotated[str, typer.Option(help="The person's name.")],
    email: Opt = None,
    phone: Opt = None,
    role: Annotated[str | None, typer.Option(help="e.g. buyer, accounts.")] = None,
    birthday: Annotated[
        str | None, typer.Option(help="1980-06-12, or --06-12 without the year.")
    ] = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    """Add a person at a business client; prints the contact's id.

    Example: goodwill client contact add C-1042 --name "Rui Costa" --email rui@example.com
    """
    from goodwill.domain.audit import Actor
    from goodwill.store.client_record import add_contact, author_for, contact_dict
    from goodwill.store.queries import find_client

    st = state(ctx)
    typed = {
        k: v
        for k, v in {
            "name": name, "email": email, "phone": phone, "role": role, "birthday": birthday
        }.items()
        if v is not None
    }  # fmt: skip
    actor = Actor.cli()
    with st.store.begin() as session:
        client = find_client(session, client_id)
        _, checked_role = author_for(session, actor, by)
        contact = add_contact(
            session, st.settings, client, typed, role=checked_role, actor=actor, now=st.now()
        )
        if as_json:
            out.print_json(json.dumps(contact_dict(contact)))
        else:
            out.print(f"added contact {contact.id}: {shown(contact.name)} at {shown(client.name)}")
