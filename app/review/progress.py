"""Review progress for reviewers and managers: counts by status, per reviewer, per day, and the
example waiting longest. Every figure is one grouped query on an index, whatever the size."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.models import Example, ExampleStatus
from app.db import utcnow
from app.i18n import _
from app.projects.overview import Step
from app.projects.permissions import Permission
from app.projects.service import ProjectContext
from app.review import queue
from app.review.models import Decision, ReviewDecision
from app.review.settings import Rules

DAYS = 14


@dataclass(frozen=True)
class ReviewerRow:
    reviewer_id: int | None
    name: str
    approved: int
    rejected: int

    @property
    def total(self) -> int:
        return self.approved + self.rejected


@dataclass
class Progress:
    by_status: dict[str, int]
    oldest_waiting: datetime | None
    reviewers: list[ReviewerRow] = field(default_factory=list)
    days: list[tuple[date, int, int]] = field(default_factory=list)  # day, approved, rejected
    since: date | None = None

    @property
    def reviewed(self) -> int:
        return self.by_status.get("approved", 0) + self.by_status.get("rejected", 0)

    @property
    def share_approved(self) -> float:
        total = self.reviewed + self.by_status.get("pending", 0)
        return self.by_status.get("approved", 0) / total if total else 0.0

    def chart_data(self) -> dict[str, Any]:
        return {
            "labels": [day.isoformat() for day, _a, _r in self.days],
            "approved": [approved for _d, approved, _r in self.days],
            "rejected": [rejected for _d, _a, rejected in self.days],
        }


def status_counts(session: Session, *, project_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Example.status, func.count())
        .where(Example.project_id == project_id)
        .group_by(Example.status)
    ).all()
    counts = {status.value: 0 for status in ExampleStatus}
    counts.update({str(status): int(n) for status, n in rows})
    return counts


def oldest_waiting(session: Session, *, project_id: int) -> datetime | None:
    return session.scalar(
        select(func.min(Example.submitted_at)).where(
            Example.project_id == project_id, Example.status == ExampleStatus.PENDING
        )
    )


def _utc_day(column: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column)


def _per_reviewer(session: Session, project_id: int, since: datetime) -> list[ReviewerRow]:
    rows = session.execute(
        select(ReviewDecision.reviewer_id, User.name, ReviewDecision.decision, func.count())
        .outerjoin(User, User.id == ReviewDecision.reviewer_id)
        .where(ReviewDecision.project_id == project_id, ReviewDecision.created_at >= since)
        .group_by(ReviewDecision.reviewer_id, User.name, ReviewDecision.decision)
    ).all()
    merged: dict[int | None, dict[str, Any]] = {}
    for reviewer_id, name, decision, count in rows:
        entry = merged.setdefault(reviewer_id, {"name": name or "", "approve": 0, "reject": 0})
        entry[decision] += count
    result = [
        ReviewerRow(rid, entry["name"], entry["approve"], entry["reject"])
        for rid, entry in merged.items()
    ]
    return sorted(result, key=lambda row: (-row.total, row.name))


def _per_day(session: Session, project_id: int, since: datetime) -> list[tuple[date, int, int]]:
    day = _utc_day(ReviewDecision.created_at, session.get_bind().dialect.name)
    rows = session.execute(
        select(day, ReviewDecision.decision, func.count())
        .where(ReviewDecision.project_id == project_id, ReviewDecision.created_at >= since)
        .group_by(day, ReviewDecision.decision)
    ).all()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"approve": 0, "reject": 0})
    for key, decision, count in rows:
        counts[str(key)][decision] += count
    first = since.date()
    days = [first + timedelta(days=offset) for offset in range(DAYS)]
    return [
        (d, counts[d.isoformat()][Decision.APPROVE], counts[d.isoformat()][Decision.REJECT])
        for d in days
    ]


def project_progress(session: Session, *, project_id: int) -> Progress:
    """Everything the progress page shows (the last ``DAYS`` days, in UTC)."""
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    since = today - timedelta(days=DAYS - 1)
    return Progress(
        by_status=status_counts(session, project_id=project_id),
        oldest_waiting=oldest_waiting(session, project_id=project_id),
        reviewers=_per_reviewer(session, project_id, since),
        days=_per_day(session, project_id, since),
        since=since.date(),
    )


@dataclass(frozen=True)
class MyDay:
    waiting_for_me: int  # capped at queue.COUNT_CAP + 1
    decided_today: int


def my_day(session: Session, *, project_id: int, reviewer: User, rules: Rules) -> MyDay:
    """The reviewer's own line on the queue page: what waits for them, what they did today."""
    servable = queue.servable(project_id, reviewer, rules).limit(queue.COUNT_CAP + 1).subquery()
    waiting = session.scalar(select(func.count()).select_from(servable)) or 0
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    decided = session.scalar(
        select(func.count()).where(
            ReviewDecision.reviewer_id == reviewer.id,
            ReviewDecision.project_id == project_id,
            ReviewDecision.created_at >= today,
        )
    )
    return MyDay(waiting, decided or 0)


@dataclass(frozen=True)
class StepCounts:
    any_approved: bool
    versions: int


def step_counts(session: Session, *, project_id: int) -> StepCounts:
    """What the project overview's checklist needs: anything approved, any version yet."""
    from app.datasets.versions.models import DatasetVersion

    approved = session.scalar(
        select(Example.id)
        .where(Example.project_id == project_id, Example.status == ExampleStatus.APPROVED)
        .limit(1)
    )
    versions = session.scalar(select(func.count()).where(DatasetVersion.project_id == project_id))
    return StepCounts(approved is not None, versions or 0)


def review_step(session: Session, ctx: ProjectContext) -> Step:
    """The overview checklist's "Review and approve" step."""
    counts = step_counts(session, project_id=ctx.project.id)
    return Step(
        _("Review and approve"),
        _("Only approved examples are used for training."),
        counts.any_approved,
        f"/projects/{ctx.project.id}/review" if ctx.can(Permission.REVIEW) else None,
    )


def version_step(session: Session, ctx: ProjectContext) -> Step:
    """The overview checklist's "Create a dataset version" step."""
    counts = step_counts(session, project_id=ctx.project.id)
    return Step(
        _("Create a dataset version"),
        _("A frozen, traceable snapshot of the approved examples."),
        counts.versions > 0,
        f"/projects/{ctx.project.id}/versions",
    )
