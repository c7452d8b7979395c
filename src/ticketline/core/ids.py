"""Identifiers: opaque ids for rows, short unambiguous codes for people to read."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

# No 0/O and no 1/I/L: codes are read aloud on the phone and typed at counters.
HUMAN_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
DIGITS = "0123456789"


def new_id() -> str:
    """A random 32-character hex id for a row."""
    return uuid.uuid4().hex


def human_code(length: int = 6, alphabet: str = HUMAN_ALPHABET) -> str:
    """A random code a person can read out without confusing similar characters."""
    if length < 1:
        raise ValueError("length must be at least 1")
    return "".join(secrets.choice(alphabet) for _ in range(length))


def normalize_human_code(text: str) -> str:
    """Read a code the way a person might type it: case, spaces and look-alikes forgiven."""
    cleaned = text.strip().upper().replace(" ", "").replace("-", "")
    return cleaned.replace("O", "0").replace("I", "1").replace("L", "1")


def secret_digits(length: int = 8) -> str:
    """A random numeric secret such as a pickup code, typed on a keypad."""
    return "".join(secrets.choice(DIGITS) for _ in range(length))


def hash_secret(secret: str) -> str:
    """SHA-256 of a high-entropy secret (tokens); not for passwords."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secrets_equal(a: str, b: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(a.encode(), b.encode())
