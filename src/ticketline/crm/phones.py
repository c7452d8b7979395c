"""Phone numbers in E.164, as every table and lookup stores them."""

from __future__ import annotations

import phonenumbers

from ticketline.core.errors import InvalidInput

DEFAULT_REGION = "CN"
MAX_INPUT = 40


def normalize(text: str, *, field: str = "phone", region: str = DEFAULT_REGION) -> str:
    """E.164 form of `text`; anything else is an `InvalidInput` naming `field`.

    National forms ("138 0013 8000", "021-6888 8888"), international forms
    ("+86 ...", "0086 ...") and numbers of other countries are accepted.
    """
    raw = text.strip()
    if not raw or len(raw) > MAX_INPUT:
        raise InvalidInput(field, f"not a phone number: {text[:MAX_INPUT]!r}")
    try:
        number = phonenumbers.parse(_international_prefix(raw), region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(field, f"not a phone number: {raw!r}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(field, f"not a valid phone number: {raw!r}")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def try_normalize(text: str | None, region: str = DEFAULT_REGION) -> str | None:
    """E.164 form of a caller id, or None for anonymous, withheld or malformed ones."""
    if not text:
        return None
    try:
        return normalize(text, region=region)
    except InvalidInput:
        return None


def _international_prefix(raw: str) -> str:
    # China dials abroad with 00; phonenumbers only knows it when the region is set,
    # so make it explicit for SIP caller ids such as "008613800138000".
    if raw.startswith("00"):
        return "+" + raw[2:]
    return raw
