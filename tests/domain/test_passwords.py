"""The password policy: length and not a common one, no composition rules."""

from __future__ import annotations

import pytest

from goodwill.domain.passwords import common_passwords, password_problem


@pytest.mark.parametrize(
    "password",
    [
        "12345678",
        " " * 8,
        " " * 12,
        "\t" * 10,
        "aaaaaaaaaaaa",
        "1234567890",
        "12345678901",
        "0987654321",
        "Qwertyuiop",
        "abcdefghijk",
        "password123",
        "PASSWORD123",
        "iloveyou12",
    ],
)
def test_short_blank_repeated_running_or_common_passwords_are_refused(password: str) -> None:
    assert password_problem(password, min_length=10) is not None


@pytest.mark.parametrize(
    "password", ["correct horse battery", "a long password", "tulpen im märz", "x7!kq 9vz2"]
)
def test_long_uncommon_passwords_pass_whatever_characters_they_use(password: str) -> None:
    assert password_problem(password, min_length=10) is None


def test_the_shipped_list_is_read_without_comments_and_lower_cased() -> None:
    words = common_passwords()
    assert "password" in words and "p@ssw0rd" in words
    assert not any(w.startswith("#") or w != w.lower() for w in words)
