"""Compiled regular expressions that check header syntax without building objects.

The parser runs these at parse time so a malformed To/From/Contact/Via is
refused at once; the typed objects are only built when someone asks for them.
The expressions follow RFC 3261 §25.1 closely enough for the torture tests, and
the object parsers (address.py, via.py) stay the reference for the details.
"""

from __future__ import annotations

import re

# RFC 3261 token
_WORD = r"[A-Za-z0-9\-.!%*_+`'~]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_PARAM_VALUE = rf"(?:{_WORD}|{_QUOTED}|\[[0-9A-Fa-f:.]+\])"
_PARAMS = rf"(?:\s*;\s*{_WORD}(?:\s*=\s*{_PARAM_VALUE})?)*"
_SCHEME = r"[A-Za-z][A-Za-z0-9+.\-]*"
_NAME_ADDR = rf"(?:{_QUOTED}\s*|(?:{_WORD}\s+)*(?:{_WORD}\s*)?)<{_SCHEME}:[^\s<>\"]+>"
_ADDR_SPEC = rf"{_SCHEME}:[^\s<>\";,?]+"
_ADDRESS = rf"(?:{_NAME_ADDR}|{_ADDR_SPEC}){_PARAMS}"
_HOST = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)"
_VIA = rf"{_WORD}\s*/\s*{_WORD}\s*/\s*{_WORD}\s+{_HOST}(?:\s*:\s*\d{{1,5}})?{_PARAMS}"

ADDRESS_RE = re.compile(rf"\s*{_ADDRESS}\s*", re.DOTALL)
"""One name-addr or addr-spec with its parameters (From, To)."""

ADDRESS_LIST_RE = re.compile(rf"\s*{_ADDRESS}(?:\s*,\s*{_ADDRESS})*\s*", re.DOTALL)
"""A comma-separated list of addresses (one Contact/Route line)."""

VIA_LIST_RE = re.compile(rf"\s*{_VIA}(?:\s*,\s*{_VIA})*\s*", re.DOTALL)
"""One Via header line, possibly holding several comma-separated values."""

CSEQ_RE = re.compile(rf"\s*(\d{{1,10}})\s+({_WORD})\s*")
"""CSeq: number and method."""
