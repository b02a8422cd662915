"""Pointwise rubric: the judge rates one answer for facts (against the reference), format and tone,
each from 1 to 5, with a short reason. Same calling contract as the pairwise judge
(``app.evaluations.judge.protocol``): the caller passes ``generate``; failures become outcomes."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from app.evaluations.judge.prompts import rubric_prompt
from app.evaluations.judge.protocol import CallFailure, Generate, Outcome, run_generate
from app.evaluations.judge.replies import (
    clean_reason,
    extract_json_object,
    looks_like_refusal,
    normalize_label,
    raw_excerpt,
)
from app.i18n import N_, _

CRITERIA = ("facts", "format", "tone")
CRITERION_LABELS = {
    "facts": N_("Facts"),
    "format": N_("Format"),
    "tone": N_("Tone"),
}


class RubricOutcome(StrEnum):
    SCORED = "scored"
    UNPARSEABLE = "unparseable"
    REFUSED = "refused"
    ERROR = "error"


RUBRIC_OUTCOME_LABELS = {
    RubricOutcome.SCORED: N_("Rated by the judge"),
    RubricOutcome.UNPARSEABLE: N_("The judge's reply could not be read"),
    RubricOutcome.REFUSED: N_("The judge model declined to answer (safety filter)"),
    RubricOutcome.ERROR: N_("The judge model could not be reached"),
}


class RubricScores(BaseModel):
    """Scores 1–5 when ``outcome`` is ``scored``; all None otherwise."""

    model_config = ConfigDict(frozen=True)

    outcome: RubricOutcome
    facts: int | None = None
    format: int | None = None
    tone: int | None = None
    reason: str = ""
    raw: str = ""
    error: str = ""

    def label(self) -> str:
        return _(RUBRIC_OUTCOME_LABELS[self.outcome])


def _score(value: Any) -> int | None:
    """1–5 from 4, 4.0 or "４"; None for anything else (3.5, 0, "good", true)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = normalize_label(value)
        value = int(text) if text.isdigit() and len(text) < 3 else None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and 1 <= value <= 5 else None


def parse_rubric_reply(text: str) -> RubricScores:
    """Read a rubric reply; never raises."""
    found = extract_json_object(text, "facts")
    if found is None:
        refused = looks_like_refusal(text)
        outcome = RubricOutcome.REFUSED if refused else RubricOutcome.UNPARSEABLE
        return RubricScores(outcome=outcome, raw=raw_excerpt(text))
    scores = {name: _score(found.get(name)) for name in CRITERIA}
    if any(score is None for score in scores.values()):
        return RubricScores(outcome=RubricOutcome.UNPARSEABLE, raw=raw_excerpt(text))
    return RubricScores(
        outcome=RubricOutcome.SCORED,
        facts=scores["facts"],
        format=scores["format"],
        tone=scores["tone"],
        reason=clean_reason(found.get("reason")),
        raw=raw_excerpt(text),
    )


def judge_rubric(
    *,
    question: str,
    reference: str,
    answer: str,
    generate: Generate,
    format_instructions: str = "",
    propagate: tuple[type[BaseException], ...] = (),
) -> RubricScores:
    """Ask the judge to rate one answer. Never raises except ``propagate``."""
    prompt = rubric_prompt(question, reference, answer, format_instructions)
    reply = run_generate(generate, prompt, propagate)
    if isinstance(reply, CallFailure):
        outcome = RubricOutcome.REFUSED if reply.outcome is Outcome.REFUSED else RubricOutcome.ERROR
        return RubricScores(outcome=outcome, error=reply.error)
    return parse_rubric_reply(reply)
