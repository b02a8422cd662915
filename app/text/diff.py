"""Differences between two texts (an answer and its reference, two revisions of an example), for
highlighting on the compare screen and in an example's history.

The texts are cut into display units that fit both languages: every kana/kanji character is a
unit (Japanese has no spaces, and a one-character change such as 送料無料 → 送料有料 should light up
one character), a run of other letters/digits is one unit (English changes show as whole words),
and whitespace runs and punctuation marks are units of their own. The result is a list of
``Segment(op, text)``:

* ``equal`` – in both texts;
* ``delete`` – in the reference, missing from the answer;
* ``insert`` – in the answer, not in the reference.

Concatenating the ``equal`` and ``insert`` segments gives the answer back exactly, ``equal`` and
``delete`` the reference. The texts are plain strings: the template escapes them (no HTML here).
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Literal, NamedTuple

from app.text.scripts import CJK_CLASS

Op = Literal["equal", "insert", "delete"]

_UNIT = re.compile(f"[{CJK_CLASS}]|(?:(?![{CJK_CLASS}])[^\\W_])+|\\s+|.", re.DOTALL)
# Coarse units for very long texts: sentences (ending in 。．.!?！？ or a newline).
_SENTENCE = re.compile(r"[^。．.!?！？\n]+[。．.!?！？\n]*|[。．.!?！？\n]+")
# SequenceMatcher is quadratic in the worst case. After the common beginning and end are set
# aside, a changed middle with more unit pairs than this is compared sentence by sentence
# (3,000 characters against 3,000 still diff by character).
MAX_UNIT_PAIRS = 9_000_000


class Segment(NamedTuple):
    op: Op
    text: str


def display_units(text: str) -> list[str]:
    return _UNIT.findall(text)


def _common_ends(first: list[str], second: list[str]) -> tuple[int, int]:
    """Lengths of the shared beginning and the shared end (not overlapping)."""
    limit = min(len(first), len(second))
    head = 0
    while head < limit and first[head] == second[head]:
        head += 1
    tail = 0
    while tail < limit - head and first[-1 - tail] == second[-1 - tail]:
        tail += 1
    return head, tail


def _append(segments: list[Segment], op: Op, text: str) -> None:
    if not text:
        return
    if segments and segments[-1].op == op:
        segments[-1] = Segment(op, segments[-1].text + text)
    else:
        segments.append(Segment(op, text))


def _diff_middle(reference: list[str], answer: list[str], segments: list[Segment]) -> None:
    if len(reference) * len(answer) > MAX_UNIT_PAIRS:
        reference = _SENTENCE.findall("".join(reference))
        answer = _SENTENCE.findall("".join(answer))
    matcher = SequenceMatcher(None, reference, answer, autojunk=False)
    for tag, ref_start, ref_end, ans_start, ans_end in matcher.get_opcodes():
        if tag == "equal":
            _append(segments, "equal", "".join(reference[ref_start:ref_end]))
            continue
        _append(segments, "delete", "".join(reference[ref_start:ref_end]))
        _append(segments, "insert", "".join(answer[ans_start:ans_end]))


def diff_segments(reference: str, answer: str) -> list[Segment]:
    """The answer compared with the reference as equal/delete/insert segments.

    Within a changed stretch the reference's text (``delete``) comes before the answer's
    (``insert``), so a template can show "~~old~~ new".
    """
    reference_units, answer_units = display_units(reference), display_units(answer)
    head, tail = _common_ends(reference_units, answer_units)
    segments: list[Segment] = []
    _append(segments, "equal", "".join(reference_units[:head]))
    _diff_middle(
        reference_units[head : len(reference_units) - tail],
        answer_units[head : len(answer_units) - tail],
        segments,
    )
    _append(segments, "equal", "".join(reference_units[len(reference_units) - tail :]))
    return segments


def answer_text(segments: list[Segment]) -> str:
    return "".join(text for op, text in segments if op != "delete")


def reference_text(segments: list[Segment]) -> str:
    return "".join(text for op, text in segments if op != "insert")
