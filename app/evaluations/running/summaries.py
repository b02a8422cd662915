"""The figures a finished run stores, so pages and the scorecard never recompute them:
``CandidateSummary`` per candidate (aggregate scores with bootstrap intervals over its answered,
included items; rubric means) and the run's ``RunSummary`` (the judge's wins/ties/losses of the
tuned model against the baseline, overall and per tag)."""

from __future__ import annotations

from collections import defaultdict
from statistics import fmean
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.evaluations.failures import error_message
from app.evaluations.judge.rubric import CRITERIA, RubricOutcome
from app.evaluations.models import EvalCandidate, EvalItem, EvalOutput, Evaluation, OutputStatus
from app.evaluations.schemas import CandidateSummary, RubricMeans, RunSummary
from app.evaluations.scoring.aggregate import aggregate
from app.evaluations.scoring.metrics import ItemScores
from app.evaluations.scoring.stats import WinTieLoss, count_outcomes

UNTAGGED = ""


def rubric_means(rubrics: list[dict[str, Any]]) -> RubricMeans | None:
    if not rubrics:
        return None
    scored = [r for r in rubrics if r.get("outcome") == RubricOutcome.SCORED]
    means: dict[str, float | None] = {
        name: round(fmean(r[name] for r in scored), 3) if scored else None for name in CRITERIA
    }
    return RubricMeans(**means, scored=len(scored), failed=len(rubrics) - len(scored))


def candidate_summary(outputs: list[EvalOutput]) -> CandidateSummary:
    done = [o for o in outputs if o.status == OutputStatus.DONE]
    return CandidateSummary(
        scores=aggregate([ItemScores.model_validate(o.scores) for o in done]),
        answered=len(done),
        failed=sum(o.status == OutputStatus.FAILED for o in outputs),
        reused=sum(o.reused for o in done),
        prompt_tokens=sum(o.prompt_tokens for o in done),
        output_tokens=sum(o.output_tokens for o in done),
        rubric=rubric_means([o.rubric for o in outputs if o.rubric]),
    )


def run_summary(items: list[EvalItem]) -> RunSummary:
    included = [item for item in items if not item.excluded]
    judged = [item for item in included if item.judged_at is not None]
    by_tag: dict[str, list[str | None]] = defaultdict(list)
    for item in judged:
        by_tag[item.tag or UNTAGGED].append(item.judge_winner)
    verdicts = count_outcomes(item.judge_winner for item in judged) if judged else None
    return RunSummary(
        judge=verdicts,
        judge_by_tag={tag: count_outcomes(w) for tag, w in sorted(by_tag.items()) if tag},
        judge_failed=sum(item.judge_winner is None for item in judged),
        items=len(included),
        excluded=len(items) - len(included),
    )


def _failed_candidate(candidate: EvalCandidate, outputs: list[EvalOutput]) -> dict[str, Any] | None:
    """A candidate that answered nothing at all: the run failed, with the reason to fix."""
    if not outputs or any(o.status != OutputStatus.FAILED for o in outputs):
        return None
    return {
        "kind": "candidate_failed",
        "params": {"candidate": candidate.label, "reason": error_message(outputs[0].error)},
        "output_error": outputs[0].error,
    }


def store(session: Session, evaluation_id: int) -> dict[str, Any] | None:
    """Write every candidate's summary and the run's; returns the run's error if a candidate
    could not answer anything (the run then fails with that reason), else None."""
    evaluation = session.get(Evaluation, evaluation_id)
    if evaluation is None:
        return None
    items = list(session.scalars(select(EvalItem).where(EvalItem.evaluation_id == evaluation_id)))
    included = {item.id for item in items if not item.excluded}
    problem = None
    candidates = session.scalars(
        select(EvalCandidate)
        .where(EvalCandidate.evaluation_id == evaluation_id)
        .order_by(EvalCandidate.position)
    )
    for candidate in candidates:
        outputs = [
            o
            for o in session.scalars(
                select(EvalOutput).where(EvalOutput.candidate_id == candidate.id)
            )
            if o.item_id in included
        ]
        candidate.summary = candidate_summary(outputs).model_dump(mode="json")
        problem = problem or _failed_candidate(candidate, outputs)
    evaluation.summary = run_summary(items).model_dump(mode="json")
    return problem


def judge_counts(summary: dict[str, Any]) -> WinTieLoss | None:
    """The stored overall judge tally of a run, if it was judged."""
    judge = (summary or {}).get("judge")
    return WinTieLoss.model_validate(judge) if judge else None
