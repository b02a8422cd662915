"""An example's findings as a reviewer sees them: translated messages, and the texts cut into
segments so the part a finding points at (an e-mail address, garbled characters…) is highlighted.
Pure: no database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.datasets.models import Example
from app.datasets.quality import findings, labels
from app.datasets.records import Finding

SEVERITY_ORDER = {"error": 0, "warning": 1}


def filter_choices() -> list[tuple[str, str]]:
    """(code, label) for every example-level finding the intake can report, by label."""
    codes = [code for code, kind in findings.CATALOGUE.items() if kind.scope == "example"]
    choices = [(code, labels.code_label(code)) for code in codes]
    return sorted(choices, key=lambda choice: choice[1])


@dataclass(frozen=True)
class FindingView:
    code: str
    severity: str
    message: str
    hint: str
    field: str | None  # "system" or "turns.N" when the finding points into a text
    anchor: str | None  # id of the highlighted segment it points at


@dataclass(frozen=True)
class Segment:
    text: str
    marked: bool
    severity: str = ""
    title: str = ""
    anchor: str = ""


@dataclass(frozen=True)
class TurnView:
    role: str  # user | model | system
    segments: list[Segment]


def _parse(issue: Mapping[str, Any]) -> Finding | None:
    try:
        return Finding.from_dict({"row": 0, **issue})
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def _parsed(example: Example) -> list[Finding]:
    parsed = (_parse(issue) for issue in example.issues or [])
    return sorted(
        (f for f in parsed if f is not None),
        key=lambda f: (SEVERITY_ORDER.get(f.severity, 2), f.code),
    )


def _anchor(example: Example, index: int) -> str:
    return f"finding-{example.id}-{index}"


def findings_of(example: Example) -> list[FindingView]:
    """Translated findings, errors first."""
    views = []
    for index, finding in enumerate(_parsed(example)):
        views.append(
            FindingView(
                code=finding.code,
                severity=finding.severity,
                message=findings.message(finding),
                hint=findings.hint(finding),
                field=finding.span[0] if finding.span else None,
                anchor=_anchor(example, index) if finding.span else None,
            )
        )
    return views


def segments(text: str, spans: Sequence[tuple[int, int, str, str, str]]) -> list[Segment]:
    """Cut ``text`` at the spans ``(start, end, severity, title, anchor)``; overlapping spans
    are merged into the first one, spans outside the text are ignored."""
    result: list[Segment] = []
    position = 0
    for start, end, severity, title, anchor in sorted(spans):
        start, end = max(start, position), min(end, len(text))
        if start >= end:
            continue
        if start > position:
            result.append(Segment(text[position:start], False))
        result.append(Segment(text[start:end], True, severity, title, anchor))
        position = end
    if position < len(text) or not result:
        result.append(Segment(text[position:], False))
    return result


def highlighted(example: Example) -> tuple[list[TurnView], TurnView | None]:
    """The turns (and the system instruction, if any) with every finding's span marked."""
    by_field: dict[str, list[tuple[int, int, str, str, str]]] = {}
    for index, finding in enumerate(_parsed(example)):
        if finding.span:
            field, start, end = finding.span
            by_field.setdefault(field, []).append(
                (start, end, finding.severity, findings.message(finding), _anchor(example, index))
            )
    turns = [
        TurnView(
            turn.get("role", "user"), segments(turn.get("text", ""), by_field.get(f"turns.{i}", []))
        )
        for i, turn in enumerate(example.turns or [])
    ]
    system = None
    if example.system_instruction:
        system = TurnView(
            "system", segments(example.system_instruction, by_field.get("system", []))
        )
    return turns, system
