"""The only reader of environment variables and of the TOML configuration file.

Settings are declared once, as data (name, default, help), so the docs and a test can check that
every setting is documented. Everything else receives a frozen :class:`Settings`.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from goodwill.domain.click_tracking import DEFAULTS as TRACKING_DEFAULTS
from goodwill.domain.click_tracking import parse_settings as _tracking
from goodwill.domain.contact_form import DEFAULTS as CONTACT_FORM_DEFAULTS
from goodwill.domain.contact_form import parse_settings as _contact_form
from goodwill.domain.trades import DEFAULT_KIND, KINDS
from goodwill.errors import ConfigError
from goodwill.setting_tables import (  # noqa: F401 (the defaults are read from here too)
    ACCOUNTS_DEFAULTS,
    DATABASE_DEFAULTS,
    DIGEST_DEFAULTS,
    FEEDBACK_DEFAULTS,
    IMPORTS_DEFAULTS,
    MAIL_KEYS,
    MAX_MESSAGE_BYTES,
    PRIVACY_DEFAULTS,
    SERVER_DEFAULTS,
    WEEKDAYS,
    _accounts,
    _business_kind,
    _cadence,
    _calendar,
    _digest,
    _feedback,
    _limits,
    _mail,
    _mappings,
    _optional_str,
    _path,
    _privacy,
    _recovery,
    _server,
    _str,
    _tables,
    _tiers,
    _webhooks,
)

ENV_DATABASE_URL = "GOODWILL_DATABASE_URL"
ENV_CONFIG = "GOODWILL_CONFIG"
ENV_SECRET_KEY = "GOODWILL_SECRET_KEY"
ENV_BUSINESS_KIND = "GOODWILL_BUSINESS_KIND"


@dataclass(frozen=True)
class SettingSpec:
    key: str
    default: object
    help: str


#: Every top-level setting of the TOML file, in the order the docs list them.
SPECS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "database_url",
        None,
        "SQLAlchemy URL of the store; default: a SQLite file in the "
        "user's data directory. Overridden by GOODWILL_DATABASE_URL and --db.",
    ),
    SettingSpec(
        "database",
        dict(DATABASE_DEFAULTS),
        "The store's connections: `pool_size` kept open and up to `max_overflow` more per "
        "process; a request waits at most `pool_timeout` seconds for one, and a SQLite write "
        "at most `busy_timeout` seconds for the lock, then the web app answers 503 with "
        "Retry-After (docs/web.md).",
    ),
    SettingSpec("timezone", "UTC", "The business's IANA time zone, used for dates without a zone."),
    SettingSpec(
        "currency",
        None,
        "The business's currency (ISO 4217): figures such as total "
        "spend count orders in it, and rows that name no currency are read in it. "
        "Unset: the currency most orders are in (of the latest 10,000), which rows naming "
        "none are read in too (USD before the first order).",
    ),
    SettingSpec(
        "date_order",
        "dmy",
        "How an ambiguous date such as 03/04/2025 is read: 'dmy' or "
        "'mdy'. Unambiguous dates (13/04/2025, 2025-04-03) are always read correctly.",
    ),
    SettingSpec(
        "secret_key",
        None,
        "Signs session cookies and tracked links; default: a key generated once and kept "
        "next to the database. Overridden by GOODWILL_SECRET_KEY.",
    ),
    SettingSpec(
        "tiers",
        {"gold": 5000, "silver": 1000},
        "Value tiers: a client whose lifetime "
        "spend (in major units of the business currency) reaches a threshold gets that "
        "tier; below all thresholds, 'bronze'. Leads have no tier.",
    ),
    SettingSpec(
        "former_after_days",
        730,
        "A client with no purchase for this many days is shown as a former client.",
    ),
    SettingSpec(
        "playbook",
        None,
        "Path of the playbook TOML file (rules that turn touch points into follow-ups); "
        "default: the playbook shipped with goodwill (docs/playbooks.md).",
    ),
    SettingSpec(
        "calendar",
        None,
        "The business calendar: a [calendar] table (timezone, holidays, country, [calendar.hours]) "
        "or the path of a calendar TOML file (docs/calendars.md); default: Monday to Friday "
        "09:00-17:00 in the business's timezone.",
    ),
    SettingSpec(
        "owner",
        None,
        "Email of the staff user who is the business owner (escalations go to them); default: "
        "the first user with the owner role.",
    ),
    SettingSpec(
        "on_call",
        None,
        "Email of the staff user who takes on-call follow-ups (new leads); default: the owner.",
    ),
    SettingSpec(
        "cadence",
        {"level": 0.9, "min_purchases": 3, "max_cycles": 3, "by_category": True},
        "The cadence watch: a client is overdue when the time since their last purchase is "
        "beyond the `level` quantile of their own rhythm; clients with fewer than "
        "`min_purchases` purchase days have no rhythm; a purchase.missed touch point fires once "
        "per missed cycle, for at most `max_cycles` cycles; `by_category` also watches each "
        "product category (docs/cadence.md).",
    ),
    SettingSpec(
        "public_url",
        None,
        "The address people reach goodwill at (e.g. https://care.example.com), used in links "
        "that leave the app such as calendar feeds; unset, links are built only for requests "
        "to this machine (localhost, 127.0.0.1, ::1) and refused for any other Host.",
    ),
    SettingSpec(
        "mappings",
        {},
        "Named column-mapping profiles for imports: [mappings.NAME] with "
        'source_column = "field" pairs; use with `goodwill import ... --profile NAME`.',
    ),
    SettingSpec(
        "profiles",
        {},
        "Import profiles of your own, or changes to the built-in ones: [profiles.NAME] tables "
        "in the format of docs/import-profiles.md; a table named like a built-in profile "
        "replaces the keys it sets.",
    ),
    SettingSpec(
        "mail",
        {},
        "Mail in and out (docs/inbox.md): [mail] from_address, smtp_host, smtp_port, "
        "smtp_security (none | starttls | tls), smtp_user, smtp_password (or "
        "GOODWILL_SMTP_PASSWORD), imap_host, imap_port, imap_user, imap_password (or "
        "GOODWILL_IMAP_PASSWORD), imap_mailbox, imap_tls, maildir, max_message_bytes (the "
        "largest message the SMTP listener and the API accept; default 52428800, 50 MB), "
        "unsubscribe_address (named as a mailto in marketing mail's List-Unsubscribe header "
        "beside the https link; unset, only the link).",
    ),
    SettingSpec(
        "sla",
        None,
        "Path of the SLA policy TOML file: response targets by tier, tag or client, and "
        "clients' critical windows (docs/sla.md); default: no response targets.",
    ),
    SettingSpec(
        "rota",
        None,
        "Path of the on-call rota TOML file (docs/sla.md); default: the `on_call` person.",
    ),
    SettingSpec(
        "webhooks",
        [],
        "URLs that receive SLA warnings and breaches (and other alerts) as JSON POSTs: "
        '[[webhooks]] url = "https://...", events = ["sla.breach"] (default: all).',
    ),
    SettingSpec(
        "recovery",
        {"systemic_count": 3, "systemic_days": 30},
        "Service recovery (docs/recovery.md): the same incident cause recorded `systemic_count` "
        "times within `systemic_days` days raises a systemic-failure alert for the owner; "
        "`weights` and `catalog` name the stakes weights and options catalog TOML files "
        "(default: built in, and the catalog shipped for the `business_kind`; a catalog of "
        "your own wins).",
    ),
    SettingSpec(
        "templates",
        None,
        "Directory of canned replies, one Jinja2 `NAME.txt` file each, managed on the dashboard's "
        "reply templates page too (docs/replies.md); a `rivalries.toml` and a `staff.toml` in it "
        "feed the personal-touch suggestions. Its templates add to and replace the ones shipped "
        "with goodwill; default: only the shipped ones, read-only.",
    ),
    SettingSpec(
        "uploads",
        None,
        "Directory where files uploaded on the dashboard's import page wait to be imported; "
        "default: an `uploads` directory in the user's data directory.",
    ),
    SettingSpec(
        "imports",
        dict(IMPORTS_DEFAULTS),
        "What one imported file may cost (docs/import.md): an upload larger than "
        "`max_upload_mb` megabytes is refused, and a file with more than `max_rows` rows or "
        "`max_columns` columns stops with an error naming the limit (CLI and dashboard); 0: "
        "no limit.",
    ),
    SettingSpec(
        "business_name",
        None,
        "The business's name as clients know it, shown on the feedback and contact forms and in "
        "the mail that asks a question; default: none (the forms then name no one).",
    ),
    SettingSpec(
        "business_kind",
        DEFAULT_KIND,
        "The business's trade, one of " + ", ".join(KINDS) + ": it chooses the recovery "
        "options offered, the words that tell what is at stake for a client and the incident "
        "form's examples (docs/recovery.md). Overridden by GOODWILL_BUSINESS_KIND.",
    ),
    SettingSpec(
        "contact_form",
        dict(CONTACT_FORM_DEFAULTS),
        "The public contact form at /contact (docs/contact-form.md): off unless `enabled`; at "
        "most `max_files` attachments of `max_file_bytes` bytes each, of the `allowed_types` "
        '(media types, "image/*" for a family); a form sent within `min_seconds` of being shown '
        "is refused as a bot's, one open longer than `token_hours` is asked to be sent again; "
        "`per_minute` posts a minute from one address, then 429; `embed_origins` are the sites "
        "that may show /contact?embed=1 in a frame (empty: any site).",
    ),
    SettingSpec(
        "tracking",
        dict(TRACKING_DEFAULTS),
        "Click tracking in goodwill's own mail (docs/automation.md): off unless `clicks`, which "
        "needs public_url; a click within `min_seconds` of the mail's delivery is a link "
        "scanner's and is not recorded.",
    ),
    SettingSpec(
        "feedback",
        dict(FEEDBACK_DEFAULTS),
        "Listening (docs/listening.md): `questions` and `themes` name TOML files of your own "
        "(default: the ones shipped); `new_years` and `long_term_years` are the tenure at the "
        "time of an answer below which a client counts as new and from which as long-term; "
        "`link_days` is how long a personal feedback link stays valid.",
    ),
    SettingSpec(
        "digest",
        dict(DIGEST_DEFAULTS),
        "The owner's weekly digest by email (docs/insights.md): `enabled`, the `weekday` "
        "(monday … sunday) and `hour` (0-23, in the business's timezone) it is sent at, and `to` "
        "(addresses; default: the owner(s)). Sent once per ISO week; a worker that was down at "
        "the hour sends it later that week. Needs mail.from_address.",
    ),
    SettingSpec(
        "server",
        dict(SERVER_DEFAULTS),
        "The web server's bounds (docs/production.md): `max_body_bytes` for any request body, "
        "`max_upload_bytes` for the request that uploads a file on the import page (a little above "
        "`imports.max_upload_mb`, which bounds the file itself; larger bodies get 413 before "
        "they are read; a raw message handed in at /api/v1/messages is held to "
        "mail.max_message_bytes); "
        "`request_timeout` seconds before a request that has not started answering gets 504; "
        "`max_concurrent` requests in progress per process, beyond which a request gets 503 with "
        "Retry-After at once (/healthz always answers).",
    ),
    SettingSpec(
        "privacy",
        dict(PRIVACY_DEFAULTS),
        "Retention (docs/security.md): `raw_mail_days` is how many days raw mail as it arrived, "
        "attachments and sent outbox mail are kept; older ones are deleted by each worker pass "
        "and by `goodwill privacy purge` (the parsed messages stay). 0 keeps them for good.",
    ),
    SettingSpec(
        "accounts",
        dict(ACCOUNTS_DEFAULTS),
        "Logins and accounts (docs/security.md): a session ends after `session_idle_minutes` "
        "without a request and `session_days` after login; the session cookie is Secure when "
        "`secure_cookie` is true (default: when public_url starts with https); "
        "`lockout_failures` wrong passwords in a row lock an account for `lockout_minutes`, and "
        "`address_failures` lock the address they came from; `password_min_length` is the "
        "shortest password accepted; an invitation link lasts `invite_days`; at most "
        "`hashing_slots` password checks run at once per process (the rest get 503).",
    ),
)

_KNOWN = {s.key for s in SPECS}


@dataclass(frozen=True)
class Layers:
    """The inputs of one build: the file's table, the environment, the ``--db`` argument."""

    file: Mapping[str, Any]
    environ: Mapping[str, str]
    database_url: str | None
    path: Path
    file_exists: bool


#: Settings an owner may save on the settings page; the file and the environment still win.
#: Not the store, the secret key, the server's bounds or anything that names a file.
PAGE_KEYS: tuple[str, ...] = (
    "business_name",
    "business_kind",
    "timezone",
    "currency",
    "date_order",
    "public_url",
    "owner",
    "on_call",
    "calendar",
    "tiers",
    "former_after_days",
    "cadence",
    "recovery",
    "digest",
    "feedback",
    "privacy",
    "mail",
    "contact_form",
    "tracking",
)
#: Page settings that hold a whole document a file would otherwise hold (its own loader reads
#: ``settings.page[key]`` when the file names no such file).
PAGE_DOCUMENTS: tuple[str, ...] = (
    "sla",
    "rota",
    "playbook",
    "recovery_options",
    "questions",
    "themes",
)


@dataclass(frozen=True)
class Settings:
    database_url: str
    timezone: str = "UTC"
    currency: str | None = None
    date_order: str = "dmy"
    secret_key: str | None = None
    tiers: Mapping[str, int] = field(default_factory=lambda: {"gold": 5000, "silver": 1000})
    former_after_days: int = 730
    mappings: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    profiles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    uploads: Path | None = None
    database: Mapping[str, Any] = field(default_factory=lambda: dict(DATABASE_DEFAULTS))
    imports: Mapping[str, Any] = field(default_factory=lambda: dict(IMPORTS_DEFAULTS))
    templates: Path | None = None
    mail: Mapping[str, Any] = field(default_factory=dict)
    sla: Path | None = None
    rota: Path | None = None
    webhooks: tuple[Mapping[str, Any], ...] = ()
    playbook: Path | None = None
    calendar: Mapping[str, Any] | Path | None = None
    owner: str | None = None
    on_call: str | None = None
    public_url: str | None = None
    cadence: Mapping[str, Any] = field(
        default_factory=lambda: {
            "level": 0.9,
            "min_purchases": 3,
            "max_cycles": 3,
            "by_category": True,
        }
    )
    recovery: Mapping[str, Any] = field(
        default_factory=lambda: {"systemic_count": 3, "systemic_days": 30}
    )
    business_name: str | None = None
    business_kind: str = DEFAULT_KIND  # one of domain.trades.KINDS
    contact_form: Mapping[str, Any] = field(default_factory=lambda: dict(CONTACT_FORM_DEFAULTS))
    tracking: Mapping[str, Any] = field(default_factory=lambda: dict(TRACKING_DEFAULTS))
    feedback: Mapping[str, Any] = field(default_factory=lambda: dict(FEEDBACK_DEFAULTS))
    digest: Mapping[str, Any] = field(default_factory=lambda: dict(DIGEST_DEFAULTS))
    server: Mapping[str, Any] = field(default_factory=lambda: dict(SERVER_DEFAULTS))
    privacy: Mapping[str, Any] = field(default_factory=lambda: dict(PRIVACY_DEFAULTS))
    accounts: Mapping[str, Any] = field(default_factory=lambda: dict(ACCOUNTS_DEFAULTS))
    config_path: Path | None = None
    #: Values the owner saved on the settings page (settings_layers.py), in the file's shapes.
    page: Mapping[str, Any] = field(default_factory=dict)
    #: What these settings were built from, so page values can be laid under them again.
    layers: Layers | None = field(default=None, repr=False, compare=False)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def secure_cookie(self) -> bool:
        """Whether cookies carry Secure: as set, else whenever the public URL is https."""
        chosen = self.accounts.get("secure_cookie")
        if isinstance(chosen, bool):
            return chosen
        return bool(self.public_url and self.public_url.lower().startswith("https://"))

    @property
    def upload_dir(self) -> Path:
        return self.uploads or data_dir() / "uploads"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir("goodwill", appauthor=False))


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'goodwill.db'}"


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir("goodwill", appauthor=False)) / "goodwill.toml"


def load_settings(
    *,
    config_path: Path | None = None,
    database_url: str | None = None,
    environ: Mapping[str, str] | None = None,
    page: Mapping[str, Any] | None = None,
) -> Settings:
    """Build settings from, in rising priority: defaults, the settings page's saved values, the
    TOML file, environment, arguments."""
    env = os.environ if environ is None else environ
    explicit = config_path is not None or bool(env.get(ENV_CONFIG))
    path = config_path or Path(env.get(ENV_CONFIG) or default_config_path())
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}", file=str(path)) from exc
    elif explicit:
        raise ConfigError(f"{path}: configuration file not found", file=str(path))
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r}", file=str(path), key=unknown[0])
    kept = {k: v for k, v in env.items() if k.startswith("GOODWILL_")}
    layers = Layers(raw, kept, database_url, path, path.exists())
    return build_settings(layers, page or {})


def build_settings(layers: Layers, page: Mapping[str, Any]) -> Settings:
    """Settings from ``layers`` with ``page`` laid under the file (each table merged key by key,
    the file's keys winning). Raises ConfigError naming the key when a value is wrong."""
    env, path = layers.environ, layers.path
    raw = _under(page, layers.file)
    url = (
        layers.database_url
        or env.get(ENV_DATABASE_URL)
        or raw.get("database_url")
        or default_database_url()
    )
    settings = Settings(
        database_url=str(url),
        timezone=_str(raw, "timezone", "UTC", path),
        currency=_str(raw, "currency", "", path).upper() or None,
        date_order=_str(raw, "date_order", "dmy", path),
        secret_key=env.get(ENV_SECRET_KEY) or raw.get("secret_key"),
        tiers=_tiers(raw.get("tiers", {"gold": 5000, "silver": 1000}), path),
        former_after_days=_former_after(raw.get("former_after_days", 730), path),
        mappings=_mappings(raw.get("mappings", {}), path),
        profiles=_tables(raw.get("profiles", {}), "profiles", path),
        uploads=_path(raw, "uploads", path),
        database=_limits(raw.get("database", {}), "database", DATABASE_DEFAULTS, path),
        imports=_limits(raw.get("imports", {}), "imports", IMPORTS_DEFAULTS, path),
        templates=_path(raw, "templates", path),
        mail=_mail(raw.get("mail", {}), path, env),
        sla=_path(raw, "sla", path),
        rota=_path(raw, "rota", path),
        webhooks=_webhooks(raw.get("webhooks", []), path),
        playbook=_path(raw, "playbook", path),
        calendar=_calendar(raw.get("calendar"), path),
        owner=_optional_str(raw, "owner", path),
        on_call=_optional_str(raw, "on_call", path),
        cadence=_cadence(raw.get("cadence", {}), path),
        recovery=_recovery(raw.get("recovery", {}), path),
        public_url=(_optional_str(raw, "public_url", path) or "").rstrip("/") or None,
        business_name=_optional_str(raw, "business_name", path),
        business_kind=_business_kind(env.get(ENV_BUSINESS_KIND) or raw.get("business_kind"), path),
        contact_form=_contact_form(raw.get("contact_form", {}), path),
        tracking=_tracking(raw.get("tracking", {}), path),
        feedback=_feedback(raw.get("feedback", {}), path),
        digest=_digest(raw.get("digest", {}), path),
        server=_server(raw.get("server", {}), path),
        privacy=_privacy(raw.get("privacy", {}), path),
        accounts=_accounts(raw.get("accounts", {}), path),
        config_path=path if layers.file_exists else None,
        page=dict(page),
        layers=layers,
    )
    if settings.tracking["clicks"] and not settings.public_url:
        raise ConfigError(
            f"{path}: tracking.clicks needs public_url", file=str(path), key="tracking.clicks"
        )
    if settings.currency is not None and not re.fullmatch(r"[A-Z]{3}", settings.currency):
        raise ConfigError(
            f"{path}: currency must be a three-letter code such as EUR, USD or GBP "
            f"(not {settings.currency!r})",
            file=str(path),
            key="currency",
        )
    if settings.date_order not in ("dmy", "mdy"):
        raise ConfigError(
            f"{path}: date_order must be 'dmy' or 'mdy'", file=str(path), key="date_order"
        )
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"{path}: timezone {settings.timezone!r} is not an IANA zone",
            file=str(path),
            key="timezone",
        ) from exc
    return settings


def _under(page: Mapping[str, Any], file: Mapping[str, Any]) -> dict[str, Any]:
    """``file`` over ``page``: tables merge key by key, anything else the file's wins whole."""
    out = {k: v for k, v in page.items() if k in PAGE_KEYS}
    for key, value in file.items():
        below = out.get(key)
        if isinstance(value, dict) and isinstance(below, dict) and key != "tiers":
            out[key] = {**below, **value}
        else:
            out[key] = value
    return out


def _former_after(value: object, path: Path) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(
            f"{path}: former_after_days must be a whole number of days, 1 or more",
            file=str(path),
            key="former_after_days",
        )
    return value


def max_message_bytes(settings: Settings) -> int:
    """The largest message accepted, in bytes (mail.max_message_bytes, else 50 MB)."""
    return int(settings.mail.get("max_message_bytes") or MAX_MESSAGE_BYTES)


def business_country(settings: Settings) -> str | None:
    """The business's country (ISO 3166 alpha-2, upper case) from the calendar's ``country``,
    in the settings or the calendar file: phones written without a country code are read in it."""
    calendar = settings.calendar
    if isinstance(calendar, Path):
        try:
            calendar = tomllib.loads(calendar.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None
    country = calendar.get("country") if isinstance(calendar, Mapping) else None
    return str(country).strip().upper() or None if country else None
