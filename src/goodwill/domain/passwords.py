"""What makes a password acceptable: length and not being a common one, no composition rules.

The shipped list (defaults/common-passwords.txt) holds passwords seen most in breaches; a run of
digits or keyboard letters (wrapping around: ``1234567890``), a single repeated character and a
listed word with digits or symbols added at the end (``iloveyou12``) are refused by rule, so the
list need not spell out every one of them.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

_RUNS = (
    "0123456789",
    "9876543210",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "abcdefghijklmnopqrstuvwxyz",
)


@cache
def common_passwords() -> frozenset[str]:
    text = (files("goodwill") / "defaults" / "common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def password_problem(password: str, *, min_length: int) -> str | None:
    """Why ``password`` is refused, in a sentence, or None when it is acceptable."""
    if len(password) < min_length:
        return f"a password needs at least {min_length} characters"
    if not password.strip():
        return "a password cannot be only spaces"
    folded = password.lower()
    if len(set(folded)) == 1:
        return "a password cannot be one character repeated"
    if any(folded in run * (len(folded) // len(run) + 2) for run in _RUNS):
        return "a password cannot be a straight run of digits or keyboard letters"
    common = common_passwords()
    # "iloveyou12" and "dragon!" are the common word with a usual ending: refused like the word.
    base = folded.strip().rstrip("0123456789!?.@#$%&*_- ")
    if folded in common or folded.strip() in common or base in common:
        return "that password is one of the most common ones; choose another"
    return None
