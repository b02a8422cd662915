"""The managers' overview across projects: tuning jobs, spend against budget, review backlog and
recent failures, for every project the user manages (administrators: every project).

Each figure is one grouped query over all those projects, never a loop of queries per project.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.auth.dependencies import OptionalUser
from app.auth.models import User
from app.datasets.models import Example, ExampleStatus
from app.db import SessionDep, utcnow
from app.projects.models import Project, ProjectMember
from app.projects.permissions import Role
from app.tuning import budget, catalog
from app.tuning.catalog import ModelSpec
from app.tuning.models import TERMINAL_STATES, JobState, TuningBudget, TuningJob
from app.tuning.texts import error_text

RECENT_FAILURES = 8
QUEUED_STATES = (JobState.QUEUED, JobState.LAUNCHING, JobState.PENDING)


def manages_any(session: Session, user: User) -> bool:
    if user.is_admin:
        return True
    return (
        session.scalar(
            select(ProjectMember.id)
            .where(ProjectMember.user_id == user.id, ProjectMember.role == Role.MANAGER)
            .limit(1)
        )
        is not None
    )


def mark_dashboard_access(request: Request, session: SessionDep, user: OptionalUser) -> None:
    """Global dependency: whether the top bar shows "Dashboard" (managers and administrators).
    FastAPI resolves ``OptionalUser`` once per request, so this costs one indexed look-up."""
    request.state.dashboard_access = user is not None and manages_any(session, user)


def managed_projects(session: Session, user: User) -> list[Project]:
    query = select(Project).where(Project.archived_at.is_(None)).order_by(func.lower(Project.name))
    if not user.is_admin:
        managed = select(ProjectMember.project_id).where(
            ProjectMember.user_id == user.id, ProjectMember.role == Role.MANAGER
        )
        query = query.where(Project.id.in_(managed))
    return list(session.scalars(query))


@dataclass
class ProjectRow:
    project: Project
    states: dict[str, int] = field(default_factory=dict)
    spent: float = 0.0
    monthly_budget: float | None = None
    pending_examples: int = 0
    oldest_pending: datetime | None = None

    def count(self, *states: str) -> int:
        return sum(self.states.get(state, 0) for state in states)

    @property
    def running(self) -> int:
        return self.count(JobState.RUNNING, JobState.CANCELLING)

    @property
    def queued(self) -> int:
        return self.count(*QUEUED_STATES)

    @property
    def awaiting(self) -> int:
        return self.count(JobState.AWAITING_APPROVAL)

    @property
    def finished(self) -> int:
        return self.count(*TERMINAL_STATES)

    @property
    def used_fraction(self) -> float | None:
        return self.spent / self.monthly_budget if self.monthly_budget else None


@dataclass(frozen=True)
class RetiredJob:
    """A tuned model whose base model Google retired, and what to re-tune it on."""

    job: TuningJob
    project_name: str
    model: ModelSpec
    successor: ModelSpec | None


@dataclass
class Overview:
    rows: list[ProjectRow]
    failures: list[tuple[TuningJob, str, str]]  # job, project name, what went wrong
    approvals: list[tuple[TuningJob, str]]
    generated_at: datetime
    retired: list[RetiredJob] = field(default_factory=list)

    def total(self, name: str) -> Any:
        return sum(getattr(row, name) or 0 for row in self.rows)

    @property
    def total_budget(self) -> float | None:
        budgets = [row.monthly_budget for row in self.rows if row.monthly_budget is not None]
        return sum(budgets) if budgets else None

    @property
    def oldest_pending(self) -> datetime | None:
        dates = [row.oldest_pending for row in self.rows if row.oldest_pending is not None]
        return min(dates) if dates else None


def _job_states(session: Session, ids: list[int], since: datetime) -> dict[int, dict[str, int]]:
    rows = session.execute(
        select(TuningJob.project_id, TuningJob.state, func.count())
        .where(
            TuningJob.project_id.in_(ids),
            or_(TuningJob.state.not_in(TERMINAL_STATES), TuningJob.finished_at >= since),
        )
        .group_by(TuningJob.project_id, TuningJob.state)
    ).all()
    result: dict[int, dict[str, int]] = {}
    for project_id, state, count in rows:
        result.setdefault(project_id, {})[state] = count
    return result


def _spend(session: Session, ids: list[int], since: datetime) -> dict[int, float]:
    rows = session.execute(
        select(TuningJob.project_id, budget.spend_expression())
        .where(
            TuningJob.project_id.in_(ids), TuningJob.created_at >= since, budget.counts_as_spend()
        )
        .group_by(TuningJob.project_id)
    ).all()
    return {project_id: float(total or 0.0) for project_id, total in rows}


def _backlog(session: Session, ids: list[int]) -> dict[int, tuple[int, datetime | None]]:
    rows = session.execute(
        select(Example.project_id, func.count(), func.min(Example.submitted_at))
        .where(Example.project_id.in_(ids), Example.status == ExampleStatus.PENDING)
        .group_by(Example.project_id)
    ).all()
    return {project_id: (count, oldest) for project_id, count, oldest in rows}


def _rows(session: Session, projects: list[Project], since: datetime) -> list[ProjectRow]:
    ids = [project.id for project in projects]
    states, spend = _job_states(session, ids, since), _spend(session, ids, since)
    backlog = _backlog(session, ids)
    budgets = dict(
        session.execute(
            select(TuningBudget.project_id, TuningBudget.monthly_budget).where(
                TuningBudget.project_id.in_(ids)
            )
        ).all()
    )
    rows = []
    for project in projects:
        pending, oldest = backlog.get(project.id, (0, None))
        spent = round(spend.get(project.id, 0.0), 2)
        rows.append(
            ProjectRow(
                project, states.get(project.id, {}), spent, budgets.get(project.id), pending, oldest
            )
        )
    return rows


def _attention(
    session: Session, names: dict[int, str]
) -> tuple[list[tuple[TuningJob, str, str]], list[tuple[TuningJob, str]]]:
    """Recent failures (with what went wrong) and launches waiting for approval."""
    failed = session.scalars(
        select(TuningJob)
        .where(TuningJob.project_id.in_(list(names)), TuningJob.state == JobState.FAILED)
        .order_by(TuningJob.finished_at.desc().nulls_last(), TuningJob.id.desc())
        .limit(RECENT_FAILURES)
    )
    waiting = session.scalars(
        select(TuningJob)
        .where(TuningJob.project_id.in_(list(names)), TuningJob.state == JobState.AWAITING_APPROVAL)
        .order_by(TuningJob.created_at)
        .limit(20)
    )
    return (
        [(job, names[job.project_id], error_text(job.error)) for job in failed],
        [(job, names[job.project_id]) for job in waiting],
    )


def _retired(session: Session, names: dict[int, str]) -> list[RetiredJob]:
    """Succeeded jobs on a base model Google retired (newest first): they need re-tuning."""
    current = catalog.current(session)
    retired = {model.id: model for model in current.retired_models()}
    if not retired or not names:
        return []
    jobs = session.scalars(
        select(TuningJob)
        .where(
            TuningJob.project_id.in_(list(names)),
            TuningJob.state == JobState.SUCCEEDED,
            TuningJob.base_model.in_(list(retired)),
        )
        .order_by(TuningJob.finished_at.desc().nulls_last(), TuningJob.id.desc())
        .limit(RECENT_FAILURES)
    )
    return [
        RetiredJob(
            job,
            names[job.project_id],
            retired[job.base_model],
            current.successor_of(job.base_model),
        )
        for job in jobs
    ]


def overview(session: Session, *, user: User, now: datetime | None = None) -> Overview:
    projects = managed_projects(session, user)
    rows = _rows(session, projects, budget.month_start(now))
    names = {project.id: project.name for project in projects}
    failures, approvals = _attention(session, names)
    return Overview(rows, failures, approvals, now or utcnow(), _retired(session, names))
