"""The experiment log: every tuning run of a project in one sortable table, with CSV export and
a side-by-side comparison of two runs — the "document every run" practice, done automatically.

Evaluation scores come from the source the evaluations domain registers at start-up
(``set_score_source``): tuning knows nothing of evaluations.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.datasets.models import Dataset
from app.datasets.versions.models import DatasetVersion
from app.i18n import _
from app.tuning.models import TuningJob
from app.tuning.texts import state_label

PER_PAGE = 50


@dataclass(frozen=True)
class EvaluationScore:
    """The headline score of a tuned model's latest evaluation (0..1) and where to see it."""

    score: float
    label: str
    link: str


ScoreSource = Callable[[Session, Sequence[int]], dict[int, EvaluationScore]]
_score_source: list[ScoreSource] = []


def set_score_source(source: ScoreSource) -> None:
    _score_source[:] = [source]


def evaluation_scores(session: Session, job_ids: Sequence[int]) -> dict[int, EvaluationScore]:
    """Job id → the score of its latest evaluation; jobs never evaluated are missing, and the
    experiment log, its CSV and the comparison show "—"."""
    if not job_ids or not _score_source:
        return {}
    return _score_source[0](session, job_ids)


@dataclass(frozen=True)
class Row:
    job: TuningJob
    dataset_name: str
    version_number: int

    @property
    def hyper(self) -> dict[str, Any]:
        return self.job.hyperparameters or {}

    @property
    def estimate(self) -> dict[str, Any]:
        return self.job.cost_estimate or {}

    @property
    def duration_seconds(self) -> float | None:
        if self.job.started_at is None or self.job.finished_at is None:
            return None
        return max(0.0, (self.job.finished_at - self.job.started_at).total_seconds())


def _sort_columns() -> dict[str, Any]:
    hyper = TuningJob.hyperparameters
    return {
        "created": TuningJob.created_at,
        "model": TuningJob.base_model,
        "version": DatasetVersion.number,
        "epochs": hyper["epochs"].as_float(),
        "multiplier": hyper["learning_rate_multiplier"].as_float(),
        "adapter": hyper["adapter_size"].as_float(),
        "cost": TuningJob.estimated_cost,
        "billable": TuningJob.billable_tokens,
        "duration": func.coalesce(TuningJob.finished_at, TuningJob.started_at),
        "train_loss": TuningJob.final_train_loss,
        "validation_loss": TuningJob.final_validation_loss,
        "state": TuningJob.state,
    }


SORTS = tuple(_sort_columns())


def _query(project_id: int, sort: str, descending: bool) -> Select[TuningJob, str, int]:
    column = _sort_columns().get(sort, TuningJob.created_at)
    ordered = column.desc().nulls_last() if descending else column.asc().nulls_last()
    return (
        select(TuningJob, Dataset.name, DatasetVersion.number)
        .join(DatasetVersion, DatasetVersion.id == TuningJob.dataset_version_id)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(TuningJob.project_id == project_id)
        .order_by(ordered, TuningJob.id.desc())
    )


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    scores: dict[int, EvaluationScore]
    total: int
    page: int
    sort: str
    descending: bool

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PER_PAGE))


def page(
    session: Session,
    *,
    project_id: int,
    sort: str = "created",
    descending: bool = True,
    number: int = 1,
) -> Page:
    sort = sort if sort in SORTS else "created"
    total = int(
        session.scalar(
            select(func.count()).select_from(TuningJob).where(TuningJob.project_id == project_id)
        )
        or 0
    )
    number = max(1, min(number, max(1, -(-total // PER_PAGE))))
    result = session.execute(
        _query(project_id, sort, descending).limit(PER_PAGE).offset((number - 1) * PER_PAGE)
    ).all()
    rows = [Row(job, name, version) for job, name, version in result]
    scores = evaluation_scores(session, [row.job.id for row in rows])
    return Page(rows, scores, total, number, sort, descending)


def recent(session: Session, *, project_id: int, limit: int = 200) -> list[TuningJob]:
    """The project's latest runs, for choosing two to compare."""
    return list(
        session.scalars(
            select(TuningJob)
            .where(TuningJob.project_id == project_id)
            .order_by(TuningJob.created_at.desc(), TuningJob.id.desc())
            .limit(limit)
        )
    )


def rows_for(session: Session, *, project_id: int, job_ids: Sequence[int]) -> list[Row]:
    query = _query(project_id, "created", False).where(TuningJob.id.in_(list(job_ids)))
    found = {job.id: Row(job, name, number) for job, name, number in session.execute(query).all()}
    return [found[job_id] for job_id in job_ids if job_id in found]


def _headers() -> list[str]:
    return [
        _("Job"),
        _("Name"),
        _("Dataset version"),
        _("Base model"),
        _("Epochs"),
        _("Learning-rate multiplier"),
        _("Adapter size"),
        _("Estimated billable tokens"),
        _("Estimated cost"),
        _("Currency"),
        _("Price verified"),
        _("Billable tokens (Vertex)"),
        _("Duration (minutes)"),
        _("Final training loss"),
        _("Final validation loss"),
        _("Evaluation score"),
        _("Status"),
        _("Created"),
    ]


def _csv_row(row: Row, score: EvaluationScore | None) -> list[Any]:
    job, hyper, estimate = row.job, row.hyper, row.estimate
    duration = row.duration_seconds
    return [
        job.id,
        job.display_name,
        f"{row.dataset_name} v{row.version_number}",
        job.base_model,
        hyper.get("epochs") if hyper.get("epochs") is not None else "auto",
        hyper.get("learning_rate_multiplier")
        if hyper.get("learning_rate_multiplier") is not None
        else "auto",
        hyper.get("adapter_size") if hyper.get("adapter_size") is not None else "auto",
        estimate.get("billable_tokens", ""),
        job.estimated_cost if job.estimated_cost is not None else "",
        estimate.get("currency", ""),
        "yes" if estimate.get("price_source") == "official" else "no",
        job.billable_tokens if job.billable_tokens is not None else "",
        round(duration / 60, 1) if duration is not None else "",
        round(job.final_train_loss, 5) if job.final_train_loss is not None else "",
        round(job.final_validation_loss, 5) if job.final_validation_loss is not None else "",
        round(score.score, 4) if score else "",
        state_label(job.state),
        job.created_at.isoformat(),
    ]


def csv_lines(session: Session, *, project_id: int, batch: int = 500) -> Iterator[str]:
    """The whole log as CSV (UTF-8 with BOM so Excel reads Japanese), streamed in batches."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_headers())
    yield "\ufeff" + buffer.getvalue()
    offset = 0
    while True:
        result = session.execute(
            _query(project_id, "created", False).limit(batch).offset(offset)
        ).all()
        if not result:
            return
        rows = [Row(job, name, number) for job, name, number in result]
        scores = evaluation_scores(session, [row.job.id for row in rows])
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows:
            writer.writerow(_csv_row(row, scores.get(row.job.id)))
        yield buffer.getvalue()
        offset += batch
