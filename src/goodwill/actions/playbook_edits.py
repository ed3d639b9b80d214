"""The playbook changed from the page: check the whole candidate document as `goodwill playbook
check` does (the rules, then the templates they name), then keep it in the page settings,
audited; or go back to the shipped playbook.

A ``playbook`` file named in the settings decides instead: nothing is saved while it is set, so a
deployment that keeps its rules in a file stays reproducible.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from goodwill.actions import page_settings
from goodwill.domain.audit import Actor
from goodwill.domain.playbook_edits import (
    PAGE_SOURCE,
    find_rule,
    with_enabled,
    with_rule,
    without_rule,
)
from goodwill.domain.playbooks import Playbook, parse_playbook
from goodwill.engine.configuration import default_playbook_document, playbook_document
from goodwill.errors import Conflict, NotFound
from goodwill.settings import Settings
from goodwill.touch_messages import check_rule_templates

log = logging.getLogger(__name__)
KEY = "playbook"


def file_decides(settings: Settings) -> str | None:
    """Why the page cannot change the playbook (the file that decides), or None."""
    if settings.playbook is None:
        return None
    return f"the playbook file {settings.playbook} decides the rules; edit that file instead"


def check_playbook(document: Mapping[str, Any], settings: Settings) -> Playbook:
    """The candidate playbook, or the ConfigError `goodwill playbook check` would give."""
    playbook = parse_playbook(document, source=PAGE_SOURCE)
    check_rule_templates(playbook, settings, source=PAGE_SOURCE)
    return playbook


def is_shipped(name: str) -> bool:
    """Whether the rule comes with goodwill (turned off, never deleted)."""
    return find_rule(default_playbook_document(), name) is not None


def save_playbook(
    db: Session, settings: Settings, document: Mapping[str, Any], *, actor: Actor, now: datetime
) -> Settings:
    """Check the document, keep it as the playbook in force, and return the new settings."""
    refused = file_decides(settings)
    if refused is not None:
        raise Conflict(refused, setting=KEY)
    check_playbook(document, settings)
    changed = page_settings.change(db, settings, KEY, dict(document), actor=actor, now=now)
    log.info("playbook saved from the page by staff user %s", actor.user_id)
    return changed


def save_rule(
    db: Session,
    settings: Settings,
    rule: Mapping[str, Any],
    *,
    replacing: str | None,
    actor: Actor,
    now: datetime,
) -> Settings:
    """A rule changed (``replacing`` its old name) or added (``replacing`` None)."""
    document = with_rule(playbook_document(settings), rule, replacing=replacing)
    return save_playbook(db, settings, document, actor=actor, now=now)


def switch_rule(
    db: Session, settings: Settings, name: str, *, on: bool, actor: Actor, now: datetime
) -> Settings:
    """Turn a rule on or off: a rule turned off creates nothing until it is turned on."""
    document = playbook_document(settings)
    if find_rule(document, name) is None:
        raise NotFound(f"there is no rule {name!r} in the playbook", rule=name)
    return save_playbook(db, settings, with_enabled(document, name, on=on), actor=actor, now=now)


def delete_rule(
    db: Session, settings: Settings, name: str, *, actor: Actor, now: datetime
) -> Settings:
    """Delete a rule added on the page; a shipped rule is turned off instead (Conflict)."""
    document = playbook_document(settings)
    if find_rule(document, name) is None:
        raise NotFound(f"there is no rule {name!r} in the playbook", rule=name)
    if is_shipped(name):
        raise Conflict(f"{name} comes with goodwill: turn it off instead", rule=name)
    return save_playbook(db, settings, without_rule(document, name), actor=actor, now=now)


def reset_playbook(db: Session, settings: Settings, *, actor: Actor, now: datetime) -> Settings:
    """Back to the shipped playbook: the rules saved from the page are dropped."""
    refused = file_decides(settings)
    if refused is not None:
        raise Conflict(refused, setting=KEY)
    return page_settings.clear(db, settings, KEY, actor=actor, now=now)
