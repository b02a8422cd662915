"""Checks of one example on its own: roles and their order, empty input or output, length,
personal data, garbled text, invisible characters and stray whitespace.

Every check runs on every example of an upload, so the common case (clean text) takes one
regular-expression scan per text; the detailed checks run only on texts that scan flags.
"""

from __future__ import annotations

import re
from itertools import pairwise

from app.datasets.quality import findings
from app.datasets.quality.pii import find_pii
from app.datasets.quality.tokens import SYSTEM_OVERHEAD, TURN_OVERHEAD, estimate_text_tokens
from app.datasets.records import VALID_ROLES, ExampleDraft, Finding, Span

# Control characters people cannot see: C0 (but tab, CR, LF), DEL, C1, zero-width and bidi marks,
# a BOM inside text. U+200C/U+200D are left alone: emoji and some scripts need them.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069"
    "\ufeff\ufff9-\ufffb]"
)
# Anything the control or mojibake checks could care about (the fast path skips the rest).
_SUSPECT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00c2-\u00f4\u0192\u200b\u200e\u200f\u201a"
    "\u202a-\u202e\u2060\u2066-\u2069\ue000-\uf8ff\ufeff\ufff9-\ufffd縺繧繝]"
)
_REPLACEMENT = re.compile("[\ufffd\ue000-\uf8ff]")  # undecodable bytes, private-use characters
# UTF-8 read as CP932 turns every kana into one of these three rare kanji plus a second character.
_UTF8_AS_CP932 = re.compile("[縺繧繝].")
# UTF-8 read as Latin-1 / Windows-1252: a lead byte shown as Â…ô followed by a continuation byte.
_UTF8_AS_LATIN = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
# Shift_JIS read as Windows-1252: kana lead bytes 0x82/0x83 shown as ‚ and ƒ.
_SJIS_AS_LATIN = re.compile("[\u201a\u0192\u0082\u0083][\u0040-\u00ff]")


def field_label(example: ExampleDraft, field_path: str) -> str:
    """``system``, ``input`` or ``output``: the words messages use for a text of the example."""
    if field_path == "system":
        return "system"
    turn = example.turns[int(field_path.split(".")[1])]
    return "output" if turn.role == "model" else "input"


def _mojibake_span(text: str) -> tuple[int, int] | None:
    if found := _REPLACEMENT.search(text):
        return found.start(), found.end()
    for pattern, minimum in ((_UTF8_AS_CP932, 2), (_SJIS_AS_LATIN, 3), (_UTF8_AS_LATIN, 2)):
        matches = pattern.findall(text, 0, 4000)
        # one hit is enough in a short text made mostly of it ("ぁぁ" read as CP932 is "縺√＝")
        dense = bool(matches) and len(matches) * 2 * 5 >= min(len(text), 4000)
        if (
            len(matches) >= minimum
            or dense
            or (pattern is _UTF8_AS_LATIN and matches and matches[0][0] in "ÃÂâã")
        ):
            first = pattern.search(text)
            assert first is not None
            return first.start(), min(len(text), first.start() + 12)
    return None


def _text_findings(example: ExampleDraft, field_path: str, text: str) -> list[Finding]:
    found: list[Finding] = []

    def add(code: str, span: Span | None, **params: str) -> None:
        found.append(
            findings.make(
                code,
                example.row,
                column=example.column_of(field_path),
                span=span,
                origin=example.origin,
                params={"field": field_label(example, field_path), **params},
            )
        )

    stripped = text.strip()
    if stripped and stripped != text:
        start = len(text) - len(text.lstrip())
        span = (0, start) if start else (len(text.rstrip()), len(text))
        add("whitespace", (field_path, *span))
    if _SUSPECT.search(text):
        controls = _CONTROL.findall(text)
        if controls:
            first = _CONTROL.search(text)
            assert first is not None
            names = ", ".join(sorted({f"U+{ord(c):04X}" for c in controls})[:5])
            add("control_chars", (field_path, first.start(), first.end()), chars=names)
        garbled = _mojibake_span(text)
        if garbled:
            add("mojibake", (field_path, *garbled), sample=text[garbled[0] : garbled[1]])
    for match in find_pii(text):
        add(f"pii_{match.kind}", (field_path, match.start, match.end))
    return found


def _role_findings(example: ExampleDraft) -> list[Finding]:
    found: list[Finding] = []
    for index, turn in enumerate(example.turns):
        if turn.role not in VALID_ROLES:
            found.append(
                findings.make(
                    "bad_role",
                    example.row,
                    origin=example.origin,
                    column=example.column_of(f"turns.{index}"),
                    role=turn.role or "(none)",
                )
            )
    if found or not example.turns:
        return found
    roles = [turn.role for turn in example.turns]
    reason, position = "", 0
    if roles[0] != "user":
        reason = "first_not_user"
    elif any(a == b for a, b in pairwise(roles)):
        reason = "not_alternating"
        position = next(i for i in range(1, len(roles)) if roles[i] == roles[i - 1])
    elif roles[-1] != "model":
        reason, position = "last_not_model", len(roles) - 1
    if reason:
        found.append(
            findings.make(
                "bad_role_order",
                example.row,
                origin=example.origin,
                column=example.column_of(f"turns.{position}"),
                reason=reason,
            )
        )
    return found


def _empty_findings(example: ExampleDraft) -> list[Finding]:
    found: list[Finding] = []
    roles = {turn.role for turn in example.turns}
    for index, turn in enumerate(example.turns):
        if turn.role in VALID_ROLES and not turn.text.strip():
            code = "empty_output" if turn.role == "model" else "empty_input"
            found.append(
                findings.make(
                    code,
                    example.row,
                    origin=example.origin,
                    column=example.column_of(f"turns.{index}"),
                )
            )
    if "user" not in roles:
        found.append(findings.make("empty_input", example.row, origin=example.origin))
    if "model" not in roles:
        found.append(findings.make("empty_output", example.row, origin=example.origin))
    return found


def _structure_findings(example: ExampleDraft) -> list[Finding]:
    turns = example.turns
    if (
        len(turns) == 2
        and turns[0].role == "user"
        and turns[1].role == "model"
        and turns[0].text.strip()
        and turns[1].text.strip()
    ):
        return []  # the usual well-formed single-turn example
    return _role_findings(example) + _empty_findings(example)


def validate_example(example: ExampleDraft, *, max_tokens: int) -> tuple[list[Finding], int]:
    """Findings about one example and its estimated token count."""
    found = _structure_findings(example)
    tokens = SYSTEM_OVERHEAD + estimate_text_tokens(example.system) if example.system else 0
    for index, turn in enumerate(example.turns):
        tokens += TURN_OVERHEAD + estimate_text_tokens(turn.text)
        if turn.text:
            found += _text_findings(example, f"turns.{index}", turn.text)
    if example.system:
        found += _text_findings(example, "system", example.system)
    if tokens > max_tokens:
        found.append(
            findings.make(
                "too_long", example.row, origin=example.origin, tokens=tokens, limit=max_tokens
            )
        )
    return found, tokens
