"""What a customer's text message says about a work order.

The resolution SMS asks for a score; customers answer "5", "5分", "WO-2612-0042 4",
or write a sentence quoting their code. Full-width digits are read as digits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

CODE = re.compile(r"\bWO[-\s]?(\d{4})[-\s]?(\d{4,})\b", re.IGNORECASE)
SCORE = re.compile(r"^([1-5])\s*(?:分|星|points?|stars?)?[\s.!。！]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Reply:
    code: str | None  # WO-YYMM-NNNN when the text quotes one
    score: int | None  # 1-5 when the text is a rating
    text: str  # what is left once the code is taken out


def read_reply(text: str) -> Reply:
    clean = unicodedata.normalize("NFKC", text).strip()
    found = CODE.search(clean)
    code = f"WO-{found.group(1)}-{found.group(2)}" if found else None
    rest = (clean[: found.start()] + " " + clean[found.end() :]).strip() if found else clean
    rest = rest.strip(" :：,，")
    score = SCORE.match(rest)
    return Reply(code, int(score.group(1)) if score else None, rest)
