"""A rough, deterministic token estimate and language sniffing for the emulator.

The emulator has no real tokenizer. Gemini's tokenizer spends about one token per four Latin
characters and roughly one per CJK character, so this estimate lands in the right range for
billing previews and stays stable from run to run (tests compare exact numbers).
"""

from __future__ import annotations

import math
import re

# One CJK character (kana, kanji, hangul, full-width forms), one Latin word or number, or one
# other non-space symbol.
_PIECE = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\uac00-\ud7af]"
    r"|[A-Za-z0-9]+"
    r"|[^\sA-Za-z0-9]"
)
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# What the emulator bills for a file part (an image or a PDF page), like Gemini's 258 per image.
FILE_PART_TOKENS = 258


def _piece_tokens(piece: str) -> int:
    if piece[0].isascii() and piece[0].isalnum():
        return max(1, math.ceil(len(piece) / 4))
    return 1


def count_tokens(text: str) -> int:
    return sum(_piece_tokens(match.group()) for match in _PIECE.finditer(text))


def truncate_to_tokens(text: str, limit: int) -> str:
    """The longest prefix of ``text`` that fits in ``limit`` tokens."""
    used = 0
    for match in _PIECE.finditer(text):
        used += _piece_tokens(match.group())
        if used > limit:
            return text[: match.start()].rstrip()
    return text


def is_japanese(text: str) -> bool:
    return _JAPANESE.search(text) is not None
