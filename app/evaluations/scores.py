"""The headline score of each tuned model's latest evaluation, for the tuning experiment log.

For a job, the latest succeeded evaluation in which it is the tuned candidate counts. Its score
(0..1) is the AI judge's share of questions where the tuned model was better when the run was
judged, otherwise its mean chrF / 100 (read from the stored summaries, never recomputed).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.evaluations.models import EvalCandidate, EvalStatus, Evaluation
from app.evaluations.schemas import CandidateSummary, RunSummary
from app.i18n import _
from app.tuning.experiments import EvaluationScore


def _score(evaluation: Evaluation, candidate: EvalCandidate) -> tuple[float, str] | None:
    run = RunSummary.model_validate(evaluation.summary or {})
    if run.judge is not None and run.judge.total:
        return run.judge.wins / run.judge.total, _("AI judge: tuned model better")
    if not candidate.summary:
        return None
    chrf = CandidateSummary.model_validate(candidate.summary).scores.chrf.value
    return (chrf / 100, _("chrF (similarity to the reference)")) if chrf is not None else None


def latest_scores_for_jobs(session: Session, job_ids: Sequence[int]) -> dict[int, EvaluationScore]:
    """Job id → the score of its latest succeeded evaluation as the tuned candidate."""
    if not job_ids:
        return {}
    rows = session.execute(
        select(EvalCandidate, Evaluation)
        .join(Evaluation, Evaluation.id == EvalCandidate.evaluation_id)
        .where(
            EvalCandidate.tuning_job_id.in_(set(job_ids)),
            EvalCandidate.role == "tuned",
            Evaluation.status == EvalStatus.SUCCEEDED,
        )
        .order_by(Evaluation.finished_at.desc(), Evaluation.id.desc())
    ).all()
    scores: dict[int, EvaluationScore] = {}
    for candidate, evaluation in rows:
        job_id = candidate.tuning_job_id
        if job_id is None or job_id in scores:
            continue  # newest first: the first row of a job is its latest evaluation
        found = _score(evaluation, candidate)
        if found is not None:
            link = f"/projects/{evaluation.project_id}/evaluations/{evaluation.id}"
            scores[job_id] = EvaluationScore(found[0], found[1], link)
    return scores
