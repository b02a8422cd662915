"""The project's golden set and the scorecard over time.

A manager picks one dataset version as the golden set ("Use as golden set"): every tuned model
measured on its test split can be compared with the others, because the questions are the same.
The scorecard lists those models in the order they were tuned, with the tuned candidate's
headline figures (chrF, ROUGE-L, the judge's better-share) and the change from the model before.

A change counts as a regression only when the figure fell *and* the previous figure lies above
the new one's 95 % interval: small wobbles that the intervals cannot tell apart are not flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import User
from app.datasets.models import Dataset
from app.datasets.versions.models import DatasetVersion
from app.errors import ValidationFailed
from app.evaluations.models import EvalCandidate, EvalStatus, Evaluation, GoldenSet
from app.evaluations.schemas import CandidateSummary, RunSummary
from app.evaluations.scoring import stats
from app.evaluations.scoring.aggregate import Estimate
from app.i18n import N_, _
from app.projects.models import Project
from app.tuning.models import TuningJob

AUDIT_ACTIONS = {"evaluation.golden_set": N_("Chose the project's golden set")}

METRICS = ("chrf", "rouge_l", "better")


@dataclass(frozen=True)
class GoldenInfo:
    version: DatasetVersion
    dataset_name: str
    set_at: datetime

    @property
    def label(self) -> str:
        return f"{self.dataset_name} v{self.version.number}"


def golden_info(session: Session, *, project_id: int) -> GoldenInfo | None:
    row = session.execute(
        select(GoldenSet, DatasetVersion, Dataset.name)
        .join(DatasetVersion, DatasetVersion.id == GoldenSet.version_id)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(GoldenSet.project_id == project_id)
    ).first()
    if row is None:
        return None
    golden, version, name = row
    return GoldenInfo(version, name, golden.created_at)


def set_golden(
    session: Session, *, actor: User, project: Project, version_id: int
) -> DatasetVersion:
    """Make ``version_id`` the project's golden set (it needs test questions)."""
    version = session.get(DatasetVersion, version_id)
    if version is None or version.project_id != project.id:
        raise ValidationFailed({"version_id": _("Choose one of this project's dataset versions.")})
    if not (version.counts or {}).get("test"):
        raise ValidationFailed(
            {
                "version_id": _(
                    "This version has no test questions. Mark some examples “Test only” and "
                    "create a new version, then use that one."
                )
            }
        )
    golden = session.get(GoldenSet, project.id)
    if golden is None:
        golden = GoldenSet(project_id=project.id, version_id=version.id)
        session.add(golden)
    golden.version_id, golden.set_by_id = version.id, actor.id
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="evaluation.golden_set",
        object_type="dataset_version",
        object_id=version.id,
        project_id=project.id,
        summary=f"v{version.number}",
    )
    return version


@dataclass(frozen=True)
class Figure:
    """One headline figure with its interval and the change from the previous model."""

    value: float | None
    low: float | None
    high: float | None
    change: float | None = None
    regression: bool = False


@dataclass(frozen=True)
class TimelinePoint:
    evaluation: Evaluation
    job: TuningJob | None
    label: str
    chrf: Figure
    rouge_l: Figure
    better: Figure

    @property
    def regression(self) -> bool:
        return self.chrf.regression or self.rouge_l.regression or self.better.regression


def _figure(value: float | None, low: float | None, high: float | None) -> Figure:
    return Figure(value, low, high)


def _from_estimate(estimate: Estimate | None) -> Figure:
    return _figure(*(estimate.value, estimate.low, estimate.high) if estimate else (None,) * 3)


def _compared(current: Figure, previous: Figure | None) -> Figure:
    if previous is None or previous.value is None or current.value is None:
        return current
    fell = current.value < previous.value
    beyond = current.high is not None and previous.value > current.high
    return Figure(
        current.value, current.low, current.high, current.value - previous.value, fell and beyond
    )


def _figures(evaluation: Evaluation, tuned: EvalCandidate) -> tuple[Figure, Figure, Figure]:
    summary = CandidateSummary.model_validate(tuned.summary) if tuned.summary else None
    run = RunSummary.model_validate(evaluation.summary) if evaluation.summary else None
    better = stats.win_rate(run.judge).better if run is not None and run.judge is not None else None
    return (
        _from_estimate(summary.scores.chrf if summary else None),
        _from_estimate(summary.scores.rouge_l if summary else None),
        _figure(better.value, better.low, better.high) if better else _figure(None, None, None),
    )


def _latest_per_model(
    rows: list[tuple[Evaluation, EvalCandidate, TuningJob | None]],
) -> list[tuple[Evaluation, EvalCandidate, TuningJob | None]]:
    """One point per tuned model: its most recent evaluation on the golden set."""
    latest: dict[Any, tuple[Evaluation, EvalCandidate, TuningJob | None]] = {}
    for row in rows:
        evaluation, candidate, job = row
        key = (candidate.tuning_job_id, candidate.checkpoint_id) if job else ("eval", evaluation.id)
        latest[key] = row  # rows come oldest first, so the last one wins
    return sorted(
        latest.values(),
        key=lambda r: (r[2].created_at if r[2] else r[0].created_at, r[0].id),
    )


def timeline(session: Session, *, project_id: int, golden: GoldenInfo) -> list[TimelinePoint]:
    rows = session.execute(
        select(Evaluation, EvalCandidate, TuningJob)
        .join(EvalCandidate, EvalCandidate.evaluation_id == Evaluation.id)
        .outerjoin(TuningJob, TuningJob.id == EvalCandidate.tuning_job_id)
        .where(
            Evaluation.project_id == project_id,
            Evaluation.test_version_id == golden.version.id,
            Evaluation.status == EvalStatus.SUCCEEDED,
            EvalCandidate.role == "tuned",
        )
        .order_by(Evaluation.finished_at, Evaluation.id)
    ).all()
    points: list[TimelinePoint] = []
    for evaluation, candidate, job in _latest_per_model([tuple(r) for r in rows]):  # type: ignore[misc]
        chrf, rouge, better = _figures(evaluation, candidate)
        previous = points[-1] if points else None
        points.append(
            TimelinePoint(
                evaluation,
                job,
                candidate.label,
                _compared(chrf, previous.chrf if previous else None),
                _compared(rouge, previous.rouge_l if previous else None),
                _compared(better, previous.better if previous else None),
            )
        )
    return points


def chart_data(points: list[TimelinePoint]) -> dict[str, Any]:
    """The chart's JSON: one category per model, chrF (0–100) and better-share (as %)."""
    return {
        "labels": [point.label for point in points],
        "series": {
            "chrf": [point.chrf.value for point in points],
            "better": [
                None if point.better.value is None else point.better.value * 100 for point in points
            ],
        },
        "names": {"chrf": _("chrF"), "better": _("Judge: tuned better (%)")},
    }


def version_choices(session: Session, *, project_id: int) -> list[tuple[str, str]]:
    """Versions with test questions, newest first, for the "Use as golden set" form."""
    rows = session.execute(
        select(DatasetVersion, Dataset.name)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(DatasetVersion.project_id == project_id)
        .order_by(DatasetVersion.created_at.desc(), DatasetVersion.id.desc())
    ).all()
    return [
        (
            str(version.id),
            _("%(name)s v%(number)s (%(count)s test questions)")
            % {"name": name, "number": version.number, "count": version.counts.get("test", 0)},
        )
        for version, name in rows
        if (version.counts or {}).get("test")
    ]
