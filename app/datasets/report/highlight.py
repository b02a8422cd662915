"""Where a problem is inside a text: the text cut into segments, the ones a finding points at
marked with its code (the template wraps them in ``<mark>``; Jinja escapes the text).

Invisible problems are made visible in the marked segments: spaces as ``·``, ideographic spaces
as ``□``, line breaks as ``↵``, tabs as ``→`` and control characters by their code point.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.datasets.records import Finding

VISIBLE = {" ": "·", "\u3000": "□", "\n": "↵\n", "\r": "", "\t": "→"}
SHOW_INVISIBLE = frozenset({"whitespace", "control_chars"})


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    code: str | None = None


def _visible(text: str) -> str:
    shown = []
    for char in text:
        if char in VISIBLE:
            shown.append(VISIBLE[char])
        elif unicodedata.category(char) in ("Cc", "Cf"):
            shown.append(f"⟨U+{ord(char):04X}⟩")
        else:
            shown.append(char)
    return "".join(shown)


def spans_for(found: Iterable[Finding], field_path: str) -> list[tuple[int, int, str]]:
    return sorted(
        (f.span[1], f.span[2], f.code) for f in found if f.span and f.span[0] == field_path
    )


def segments(text: str, spans: Sequence[tuple[int, int, str]]) -> list[Segment]:
    """``text`` split at the spans (overlapping spans: the first one wins)."""
    result: list[Segment] = []
    position = 0
    for start, end, code in spans:
        start, end = max(start, position), min(end, len(text))
        if start >= end:
            continue
        if start > position:
            result.append(Segment(text[position:start]))
        piece = text[start:end]
        result.append(Segment(_visible(piece) if code in SHOW_INVISIBLE else piece, code))
        position = end
    if position < len(text) or not result:
        result.append(Segment(text[position:]))
    return result
