"""Which recovery options, questions and themes are in force: a file the settings name, else what
the owner saved on the settings page, else the shipped ones; a saved change is read at once."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from goodwill.actions.feedback import in_force, load_questions, load_themes
from goodwill.actions.incidents import recovery_files, trade_words
from goodwill.actions.recovery_catalog import catalog_in_force
from goodwill.settings import Settings

OWN = {
    "option": [
        {"name": "say sorry over coffee", "cost": "0", "tiers": [1, 2, 3], "fits": ["any"]},
    ]
}
QUESTIONS = {"question": [{"key": "why", "text": "Why us?"}]}
THEMES = {"theme": [{"key": "parking", "phrases": ["parking"]}]}


def shop(**page: object) -> Settings:
    return Settings(database_url="sqlite://", business_kind="shop", page=dict(page))


def test_the_pages_options_replace_the_kinds_and_keep_the_kinds_words() -> None:
    _, shipped = recovery_files(shop())
    _, mine = recovery_files(shop(recovery_options=OWN))
    assert "courier a replacement today" in [o.name for o in shipped.options]
    assert [o.name for o in mine.options] == ["say sorry over coffee"]
    assert trade_words(shop(recovery_options=OWN)) == trade_words(shop())
    assert catalog_in_force(shop(recovery_options=OWN)).where == "page"


def test_a_catalog_file_wins_over_the_pages_options(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        '[[option]]\nname = "from the file"\ncost = "0"\ntiers = [1, 2, 3]\n', encoding="utf-8"
    )
    settings = dataclasses.replace(
        shop(recovery_options=OWN), recovery={"systemic_count": 3, "catalog": catalog}
    )
    _, found = recovery_files(settings)
    assert [o.name for o in found.options] == ["from the file"]
    assert (catalog_in_force(settings).where, catalog_in_force(settings).path) == (
        "file",
        catalog,
    )


def test_the_pages_questions_and_themes_are_read_at_once_unless_a_file_is_named(
    tmp_path: Path,
) -> None:
    assert "miss-us" in load_questions(shop())
    assert list(load_questions(shop(questions=QUESTIONS))) == ["why"]
    assert [t.key for t in load_themes(shop(themes=THEMES))] == ["parking"]
    more = {"theme": [*THEMES["theme"], {"key": "coffee", "phrases": ["coffee"]}]}
    assert [t.key for t in load_themes(shop(themes=more))] == ["parking", "coffee"]
    assert in_force(shop(themes=THEMES), "themes").where == "page"

    questions = tmp_path / "questions.toml"
    questions.write_text('[[question]]\nkey = "file"\ntext = "From the file?"\n', "utf-8")
    named = dataclasses.replace(
        shop(questions=QUESTIONS), feedback={"questions": questions, "new_years": 1}
    )
    assert list(load_questions(named)) == ["file"]
    assert in_force(named, "questions").where == "file"
    assert in_force(named, "themes").where == "shipped"
