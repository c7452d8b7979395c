"""Passenger documents and phone numbers: validated before anything is stored."""

from __future__ import annotations

import re
from datetime import date

import phonenumbers

from ticketline.core.errors import InvalidInput

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PASSPORT = re.compile(r"^[A-Z0-9]{5,17}$")
_PERMIT = re.compile(r"^[A-Z0-9]{8,11}$")


def mainland_id_problem(number: str) -> str | None:
    """Why an 18-character resident ID (GB 11643) is invalid, or None if it is valid."""
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return "must be 17 digits and a digit or X"
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "has an impossible birth date"
    if born.year < 1900 or born > date.today():
        return "has an impossible birth date"
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != number[17]:
        return "check digit does not match"
    return None


def normalize_document(field: str, id_type: str, number: str) -> str:
    """The document number in canonical form, or InvalidInput naming `field`."""
    cleaned = number.strip().upper().replace(" ", "")
    if id_type == "id_card":
        problem = mainland_id_problem(cleaned)
        if problem:
            raise InvalidInput(field, f"resident ID {problem}")
        return cleaned
    pattern = _PASSPORT if id_type == "passport" else _PERMIT
    if not pattern.match(cleaned):
        raise InvalidInput(field, f"not a valid {id_type.replace('_', ' ')} number")
    return cleaned


def mask_document(number: str) -> str:
    """'110101********1234': enough to recognise, not enough to reuse."""
    if len(number) <= 8:
        return number[:2] + "*" * (len(number) - 2)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def normalize_phone(field: str, text: str, region: str = "CN") -> str:
    """E.164 form of a phone number; a malformed one is an error naming `field`."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(field, f"not a phone number: {text!r}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(field, f"not a valid phone number: {text!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
