"""Personal data in example texts: e-mail addresses, phone numbers (Japanese and international),
credit card numbers (IIN + Luhn) and Japanese individual numbers (My Number, check digit).

Full-width digits, signs and the dash family (including ー, which people type inside phone numbers)
are matched as they are; each candidate is then folded one character to one character, so every
offset is the offset in the original text (folding the whole text first would be simpler but
``str.translate`` is slow on Japanese text). Boundaries are ASCII-only:
Python's ``\\b``/``\\w`` treat kana and kanji as word characters, which would hide an address
written directly before Japanese text (``taro@example.comまで``).

Numbers are found as one run of digits and separators, then classified by digit count, so the
12-digit start of a 15-digit Amex number grouped 4-4-4-3 can never be taken for a My Number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

PiiKind = Literal["email", "phone", "credit_card", "my_number"]

PLACEHOLDERS: dict[PiiKind, str] = {
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "credit_card": "[CARD]",
    "my_number": "[MY_NUMBER]",
}


@dataclass(frozen=True, slots=True)
class PiiMatch:
    kind: PiiKind
    start: int
    end: int  # exclusive, offsets in the original text


def _fold_table() -> dict[int, int]:
    table = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}  # full-width ASCII
    table[0x3000] = 0x20
    for dash in (0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xFE63, 0x30FC, 0xFF70):
        table[dash] = ord("-")
    return table


_FOLD = _fold_table()

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}"
    r"(?![A-Za-z0-9\-])"
)
# A run of digits with the separators people put into phone and card numbers.
_DIGIT = "0-9\uff10-\uff19"
_ALNUM = "0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
_SEPARATOR = "()\\- .\uff08\uff09\uff0d\uff0e\u3000\u2010-\u2015\u2212\ufe63\u30fc\uff70"
_NUMBER = re.compile(
    f"(?<![{_ALNUM}])(?<![{_DIGIT}][.\uff0e])[+\uff0b]?[(\uff08]?[{_DIGIT}]"
    f"[{_DIGIT}{_SEPARATOR}]{{6,40}}[{_DIGIT}](?![{_ALNUM}])"
)
# The same run without look-arounds: a fast scan that rules out most texts (look-behinds at the
# start of a pattern stop the regex engine from skipping ahead).
_NUMBER_HINT = re.compile(f"[{_DIGIT}][{_DIGIT}{_SEPARATOR}]{{6,40}}[{_DIGIT}]")
_NANP = re.compile(r"^(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}$")
_CARD_SEPARATORS = re.compile(r"^[0-9][0-9 \-]*$")


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_brand_accepts(digits: str) -> bool:
    """The issuer ranges (IIN) of the card networks used in Japan, with their lengths."""
    length = len(digits)
    two, four, six = int(digits[:2]), int(digits[:4]), int(digits[:6])
    checks = (
        digits[0] == "4" and length in (13, 16, 19),  # Visa
        (51 <= two <= 55 or 2221 <= four <= 2720) and length == 16,  # Mastercard
        two in (34, 37) and length == 15,  # American Express
        3528 <= four <= 3589 and 16 <= length <= 19,  # JCB
        (two in (36, 38, 39) or 300 <= int(digits[:3]) <= 305 or four == 3095)
        and 14 <= length <= 19,  # Diners Club
        (four == 6011 or 644 <= int(digits[:3]) <= 649 or two == 65 or 622126 <= six <= 622925)
        and 16 <= length <= 19,  # Discover
        two == 62 and 16 <= length <= 19,  # UnionPay
    )
    return any(checks)


def my_number_valid(digits: str) -> bool:
    """Check digit of the individual number (総務省令第八十五号 第五条)."""
    if len(digits) != 12 or not digits.isdigit():
        return False
    total = 0
    for n in range(1, 12):
        p = ord(digits[11 - n]) - 48  # Pn: n-th digit from the right, the check digit excluded
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    remainder = total % 11
    check = 0 if remainder <= 1 else 11 - remainder
    return check == ord(digits[11]) - 48


def _japanese_phone(digits: str) -> bool:
    if len(digits) == 11:
        return digits[:3] in ("020", "050", "060", "070", "080", "090") or digits[:4] == "0800"
    return len(digits) == 10 and digits[0] == "0" and digits[1] != "0"


def _classify(candidate: str) -> PiiKind | None:
    digits = "".join(char for char in candidate if char.isdigit())
    count = len(digits)
    if candidate.startswith("+"):
        if digits.startswith("81"):
            return "phone" if _japanese_phone("0" + digits[2:]) else None
        return "phone" if 8 <= count <= 15 else None
    plain_grouping = _CARD_SEPARATORS.match(candidate) is not None
    if 13 <= count <= 19:
        ok = plain_grouping and _card_brand_accepts(digits) and _luhn_valid(digits)
        return "credit_card" if ok else None
    if count == 12:
        return "my_number" if plain_grouping and my_number_valid(digits) else None
    if count in (10, 11) and digits[0] == "0":
        return "phone" if _japanese_phone(digits) else None
    if count == 10 and _NANP.match(candidate):
        return "phone" if digits[0] in "23456789" else None
    return None


def _trim(candidate: str, start: int) -> tuple[str, int, int]:
    """Drop a dangling bracket: ``(03)1234-5678`` keeps its brackets, ``1234)`` does not."""
    text, end = candidate, start + len(candidate)
    if text.endswith(")") and text.count("(") < text.count(")"):
        text, end = text[:-1], end - 1
    if text.startswith("(") and text.count("(") > text.count(")"):
        text, start = text[1:], start + 1
    return text, start, end


def _number_matches(text: str) -> Iterator[PiiMatch]:
    for found in _NUMBER.finditer(text):
        candidate, start, end = _trim(found.group().translate(_FOLD), found.start())
        kind = _classify(candidate)
        if kind:
            yield PiiMatch(kind, start, end)
            continue
        # Two formatted numbers written one after the other ("03-1234-5678 090-1234-5678"):
        # split at spaces, but only into pieces that carry their own hyphens or brackets, so
        # plain digit groups (a card number 4-4-4-3) are never regrouped into something else.
        offset = start
        for piece in candidate.split(" "):
            if piece and ("-" in piece or "(" in piece) and piece != candidate:
                piece_kind = _classify(piece)
                if piece_kind:
                    yield PiiMatch(piece_kind, offset, offset + len(piece))
            offset += len(piece) + 1


def find_pii(text: str) -> list[PiiMatch]:
    """Every personal-data match in ``text``, in order, with offsets into ``text`` itself."""
    matches: list[PiiMatch] = []
    if "@" in text or "\uff20" in text:
        folded = text.translate(_FOLD) if "\uff20" in text else text
        matches.extend(PiiMatch("email", m.start(), m.end()) for m in _EMAIL.finditer(folded))
    if _NUMBER_HINT.search(text):
        matches.extend(_number_matches(text))
    if len(matches) > 1:
        matches.sort(key=lambda match: match.start)
        matches = [
            m
            for i, m in enumerate(matches)
            if not any(o.start <= m.start and m.end <= o.end for o in matches[:i])
        ]
    return matches


def redact(text: str, matches: Sequence[PiiMatch]) -> str:
    """``text`` with every match replaced by its placeholder (``[EMAIL]``, ``[PHONE]``…)."""
    pieces: list[str] = []
    position = 0
    for match in sorted(matches, key=lambda m: m.start):
        if match.start < position:
            continue  # overlaps a span already replaced
        pieces.append(text[position : match.start])
        pieces.append(PLACEHOLDERS[match.kind])
        position = match.end
    pieces.append(text[position:])
    return "".join(pieces)
