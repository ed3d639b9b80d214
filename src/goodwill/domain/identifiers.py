"""Emails and phone numbers as a client is found by them: one spelling per address or number.

An email is compared lower-cased; a phone in E.164 (``+31201234567``), read with the business's
country for numbers written without their country code ("020 123 4567" in the Netherlands). The
parsing of phone numbers is Google's libphonenumber (the ``phonenumberslite`` port): numbering
plans are the kind of detail a product should not hand-write.
"""

from __future__ import annotations

import re

#: One @, something before it, a dot after it, no spaces: strict enough to catch typos, loose
#: enough for every address mail servers accept.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL = 320
MAX_PHONE = 100


class IdentifierError(ValueError):
    """A value that cannot be an email address or a phone number; the message says why."""


def normalize_email(text: str) -> str:
    """The address lower-cased and trimmed, or :class:`IdentifierError`."""
    value = text.strip().lower()
    if not value:
        raise IdentifierError("is empty")
    if len(value) > MAX_EMAIL:
        raise IdentifierError(f"is longer than {MAX_EMAIL} characters")
    if not EMAIL.match(value):
        raise IdentifierError(f"{text.strip()!r} is not an email address")
    return value


def normalize_phone(text: str, region: str | None = None) -> str:
    """The number in E.164, read with ``region`` (ISO 3166 alpha-2) when it has no country
    code; :class:`IdentifierError` when it is not a possible number."""
    import phonenumbers

    value = text.strip()
    if not value:
        raise IdentifierError("is empty")
    if len(value) > MAX_PHONE:
        raise IdentifierError(f"is longer than {MAX_PHONE} characters")
    try:
        number = phonenumbers.parse(value, (region or "").upper() or None)
    except phonenumbers.NumberParseException as error:
        if error.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise IdentifierError(
                f"{value!r} has no country code: write it as +<country> <number>"
            ) from None
        raise IdentifierError(f"{value!r} is not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise IdentifierError(f"{value!r} is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_key(text: str | None, region: str | None = None) -> str | None:
    """A phone's E.164 form for matching, or None when it cannot be read (an imported phone
    written any old way must not stop a comparison)."""
    if not text:
        return None
    try:
        return normalize_phone(text, region)
    except IdentifierError:
        digits = re.sub(r"\D", "", text)
        return digits or None
