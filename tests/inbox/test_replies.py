"""Canned replies: the shipped templates, strict placeholders, the sandbox, saving."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from goodwill.actions.replies import (
    Placeholders,
    TemplateProblem,
    list_templates,
    render_source,
    render_template,
    save_template,
)
from goodwill.errors import ConfigError, InvalidInput
from goodwill.settings import Settings

SHIPPED = Settings(database_url="sqlite://")


def context(*, hometown: str | None = "Leeds", incident: bool = False) -> dict[str, Placeholders]:
    return {
        "client": Placeholders(
            "client",
            {
                "name": "Margaret Holloway",
                "first_name": "Margaret",
                "hometown": hometown,
                "tenure_years": 20,
            },
        ),
        "conversation": Placeholders("conversation", {"subject": "Broken lamp"}),
        "incident": Placeholders(
            "incident",
            {"what": "the lamp arrived broken", "partner": None} if incident else None,
        ),
        "staff": Placeholders("staff", {"name": "Olive Owner", "first_name": "Olive"}),
    }


def test_the_six_shipped_reply_templates_render_for_a_conversation_with_an_incident() -> None:
    names = [t.name for t in list_templates(SHIPPED) if "Subject:" not in t.source.splitlines()[1]]
    assert names == [
        "apology-and-fix",
        "follow-up-after-incident",
        "late-delivery",
        "out-of-stock-with-alternatives",
        "payment-reminder-friendly",
        "thank-you-long-term-client",
    ]
    for name in names:
        text = render_template(SHIPPED, name, context(incident=True))
        assert text.startswith("Dear Margaret,\n") and text.endswith("Olive Owner\n")
        assert "{" not in text and "None" not in text
    assert "20 years is a long time" in render_template(
        SHIPPED, "thank-you-long-term-client", context()
    )


def test_a_missing_value_is_an_error_naming_the_placeholder_never_an_empty_string() -> None:
    with pytest.raises(TemplateProblem) as caught:
        render_source("We are both from {{ client.hometown }}!", context(hometown=""), name="t")
    assert caught.value.placeholder == "client.hometown"
    assert caught.value.fields["template"] == "t"
    assert isinstance(caught.value, InvalidInput)
    with pytest.raises(TemplateProblem, match="no open incident") as caught:
        render_template(SHIPPED, "apology-and-fix", context(incident=False))
    assert caught.value.placeholder == "incident.what"


def test_an_unknown_name_is_named_too() -> None:
    with pytest.raises(TemplateProblem, match="not a placeholder goodwill knows") as caught:
        render_source("Hi {{ clint.name }}", context(), name="t")
    assert caught.value.placeholder == "clint"


def test_a_template_may_test_for_a_value_or_give_a_fallback() -> None:
    source = "{% if incident %}sorry{% else %}hello{% endif %} from {{ client.hometown|default('here') }}"
    assert render_source(source, context(hometown=None), name="t") == "hello from here\n"


@pytest.mark.parametrize(
    "source",
    [
        "{{ client.__class__ }}",
        "{{ client.name.__class__.__mro__ }}",
        "{{ client._values }}",
        "{{ ''.__class__.__subclasses__() }}",
    ],
)
def test_the_sandbox_refuses_attribute_access(source: str) -> None:
    with pytest.raises(TemplateProblem, match="templates may not"):
        render_source(source, context(), name="t")


def test_a_syntax_error_names_the_line() -> None:
    with pytest.raises(TemplateProblem, match="line 2") as caught:
        render_source("Dear {{ client.first_name }},\n{% if %}", context(), name="t")
    assert caught.value.fields["line"] == 2


def test_templates_are_saved_only_in_a_configured_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="set `templates`"):
        save_template(SHIPPED, "mine", "Hello")
    mine = dataclasses.replace(SHIPPED, templates=tmp_path / "replies")
    save_template(mine, "late-delivery", "Dear {{ client.first_name }}, on its way today.")
    save_template(mine, "welcome", "Welcome, {{ client.first_name }}!")
    found = {t.name: t.origin for t in list_templates(mine)}
    assert found["late-delivery"] == "yours" and found["welcome"] == "yours"
    assert found["apology-and-fix"] == "shipped"
    assert render_template(mine, "late-delivery", context()) == (
        "Dear Margaret, on its way today.\n"
    )
    for name, source in (("../evil", "x"), ("Bad Name", "x"), ("ok", "{% if %}")):
        with pytest.raises(InvalidInput):
            save_template(mine, name, source)
    assert sorted(p.name for p in (tmp_path / "replies").iterdir()) == [
        "late-delivery.txt",
        "welcome.txt",
    ]
