"""What the tuning screens show, loaded in a few queries so the router stays HTTP only and templates
never query: the jobs list, the new-job planner, and a job's live page (status, curves,
diagnosis, checkpoints, run log)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.models import Dataset
from app.datasets.versions.models import DatasetVersion
from app.errors import NotFound, ValidationFailed
from app.i18n import _
from app.projects.permissions import Permission
from app.projects.service import ProjectContext
from app.tuning import budget, catalog, continuation, diagnosis, service
from app.tuning.catalog import ModelSpec
from app.tuning.forms import JobForm, parse_choice
from app.tuning.models import (
    ACTIVE_STATES,
    TERMINAL_STATES,
    JobEvent,
    JobState,
    MetricPoint,
    TuningJob,
)
from app.tuning.recommend import KNOB_HELP
from app.tuning.texts import error_text, event_text, state_label, state_tone, sub_state_label

JOBS_PER_PAGE = 50
ADAPTER_CHOICES = (1, 2, 4, 8, 16)  # what Vertex's Gemini models accept at most
MAX_CHART_POINTS = 400
SHOWN_EVENTS = 200
SERIES = ("train_loss", "validation_loss", "train_accuracy", "validation_accuracy")


def crumbs(ctx: ProjectContext, *tail: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return ctx.crumbs((_("Tuning"), f"/projects/{ctx.project.id}/tuning"), *tail)


def jobs_context(session: Session, ctx: ProjectContext, page: int = 1) -> dict[str, Any]:
    project_id = ctx.project.id
    total = int(
        session.scalar(
            select(func.count()).select_from(TuningJob).where(TuningJob.project_id == project_id)
        )
        or 0
    )
    pages = max(1, -(-total // JOBS_PER_PAGE))
    page = max(1, min(page, pages))
    rows = session.execute(
        select(TuningJob, Dataset.name, DatasetVersion.number, User.name)
        .join(DatasetVersion, DatasetVersion.id == TuningJob.dataset_version_id)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .outerjoin(User, User.id == TuningJob.launched_by_id)
        .where(TuningJob.project_id == project_id)
        .order_by(TuningJob.created_at.desc(), TuningJob.id.desc())
        .limit(JOBS_PER_PAGE)
        .offset((page - 1) * JOBS_PER_PAGE)
    ).all()
    active = any(job.state in ACTIVE_STATES for job, *_rest in rows)
    return {
        "ctx": ctx,
        "rows": rows,
        "total": total,
        "page": page,
        "pages": pages,
        "active": active,
        "budget": budget.view(session, project_id=project_id),
        "has_versions": bool(service.list_versions(session, project_id=project_id)),
        "breadcrumbs": [*crumbs(ctx)[:-1], (_("Tuning"), None)],
    }


def new_job_context(
    session: Session, ctx: ProjectContext, form: JobForm, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    """The planner: version and model choice, recommendation, knobs, checklist and cost."""
    versions = service.list_versions(session, project_id=ctx.project.id)
    context: dict[str, Any] = {
        "ctx": ctx,
        "versions": versions,
        "models": catalog.current(session).choices(),
        "default_model": catalog.current(session).default_model,
        "successor": None,
        "knob_help": KNOB_HELP,
        "errors": dict(errors or {}),
        "form": form,
        "planned": None,
        "adapter_choices": ADAPTER_CHOICES,
        "breadcrumbs": crumbs(ctx, (_("New tuning job"), None)),
    }
    if not form.version and versions:
        # Nothing chosen yet: start from the newest version.
        form = replace(form, version=str(versions[0][0].id))
        context["form"] = form
    version_id = form.version_id()
    if version_id is None:
        return context
    model_id = form.base_model or catalog.current(session).default_model
    try:
        recommended, model = service.recommendation(
            session,
            project_id=ctx.project.id,
            version_id=version_id,
            model_id=model_id,
            parent_job_id=form.parent_id(),
        )
    except (NotFound, ValidationFailed) as error:
        context["errors"].setdefault("version", error.message)
        return context
    form = form.with_recommendation(recommended, model.id)
    choice, choice_errors = parse_choice(form)
    planned = service.plan(
        session,
        project_id=ctx.project.id,
        version_id=version_id,
        model_id=model.id,
        choice=None if choice_errors else choice,
        leakage_acknowledged=form.acknowledge_leakage,
        parent_job_id=form.parent_id(),
        checkpoint_id=form.checkpoint or None,
    )
    field_errors = {**choice_errors, **planned.choice_errors, **context["errors"]}
    context.update(form=form, planned=planned, errors=field_errors, choice_ok=not choice_errors)
    context["successor"] = catalog.current(session).successor_of(model.id)
    return context


def retune_query(job: TuningJob, successor: ModelSpec) -> dict[str, str]:
    """The new-job form for "Re-tune on <successor>": the same version and, where the successor
    allows them, the same settings (an adapter size it does not take falls back to its
    default). ``planned_for`` keeps these values instead of a fresh recommendation."""
    hyper = job.hyperparameters or {}
    query = {"version": str(job.dataset_version_id), "base_model": successor.id}
    if hyper.get("epochs") is not None:
        query["epochs"] = str(hyper["epochs"])
    else:
        query["auto_epochs"] = "on"
    if hyper.get("learning_rate_multiplier") is not None:
        query["learning_rate_multiplier"] = f"{hyper['learning_rate_multiplier']:g}"
    else:
        query["auto_multiplier"] = "on"
    adapter = hyper.get("adapter_size")
    query["adapter_size"] = str(
        adapter if successor.allows(adapter) and adapter else successor.default_adapter_size
    )
    query["planned_for"] = f"{job.dataset_version_id}:{successor.id}"
    return query


def job_actions(ctx: ProjectContext, job: TuningJob) -> dict[str, bool]:
    from app.tuning.control import stoppable_orphan

    cancellable = job.state in ACTIVE_STATES | {JobState.AWAITING_APPROVAL}
    return {
        "can_cancel": ctx.can(Permission.LAUNCH_JOBS)
        and (cancellable or stoppable_orphan(job))
        and job.state != JobState.CANCELLING,
        "can_approve": ctx.can(Permission.MANAGE) and job.state == JobState.AWAITING_APPROVAL,
        "can_retune": ctx.can(Permission.LAUNCH_JOBS),
        "can_serve": ctx.can(Permission.MANAGE) and job.state == JobState.SUCCEEDED,
    }


def chart_labels() -> dict[str, str]:
    return series_labels()


def series_labels() -> dict[str, str]:
    return {
        "train_loss": _("Training loss"),
        "validation_loss": _("Validation loss"),
        "train_accuracy": _("Training token accuracy"),
        "validation_accuracy": _("Validation token accuracy"),
        "checkpoint": _("Recommended checkpoint"),
        "step": _("Step"),
        "loss": _("Loss"),
        "accuracy": _("Token accuracy"),
    }


def load_series(session: Session, job_id: int) -> dict[str, list[tuple[int, float]]]:
    rows = session.execute(
        select(MetricPoint.metric, MetricPoint.step, MetricPoint.value)
        .where(MetricPoint.job_id == job_id)
        .order_by(MetricPoint.metric, MetricPoint.step)
    ).all()
    result: dict[str, list[tuple[int, float]]] = {name: [] for name in SERIES}
    for metric, step, value in rows:
        result.setdefault(metric, []).append((step, value))
    return result


def thin(points: list[tuple[int, float]], limit: int = MAX_CHART_POINTS) -> list[list[float]]:
    """At most ``limit`` points for a chart (evenly spaced, always keeping the last)."""
    if len(points) <= limit:
        return [[step, round(value, 5)] for step, value in points]
    stride = len(points) / limit
    picked = [points[int(i * stride)] for i in range(limit - 1)] + [points[-1]]
    return [[step, round(value, 5)] for step, value in picked]


def checkpoints_of(job: TuningJob) -> list[diagnosis.Checkpoint]:
    return [
        diagnosis.Checkpoint(str(c.get("checkpoint_id")), c.get("epoch"), c.get("step"))
        for c in job.checkpoints or []
    ]


def diagnose(job: TuningJob, series: dict[str, list[tuple[int, float]]]) -> diagnosis.Diagnosis:
    hyper = {**(job.hyperparameters or {}), "completed_epochs": job.completed_epochs}
    return diagnosis.diagnose(
        series.get("train_loss", []),
        series.get("validation_loss", []),
        checkpoints_of(job),
        finished=job.state in TERMINAL_STATES,
        truncated=int((job.data_stats or {}).get("affected_count") or 0),
        hyperparameters=hyper,
    )


def chart_data(
    series: dict[str, list[tuple[int, float]]], verdict: diagnosis.Diagnosis | None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "series": {name: thin(points) for name, points in series.items() if name in SERIES},
        "labels": series_labels(),
    }
    if verdict is not None and verdict.checkpoint is not None and verdict.checkpoint.step:
        step = verdict.checkpoint.step
        losses = dict(series.get("validation_loss") or series.get("train_loss") or [])
        nearest = min(losses, key=lambda s: abs(s - step)) if losses else None
        if nearest is not None:
            data["checkpoint"] = {
                "step": step,
                "value": losses[nearest],
                "id": verdict.checkpoint.checkpoint_id,
            }
    return data


@dataclass
class JobView:
    job: TuningJob
    version: DatasetVersion | None
    dataset: Dataset | None
    model: ModelSpec | None
    successor: ModelSpec | None
    people: dict[int, str]
    series: dict[str, list[tuple[int, float]]]
    verdict: diagnosis.Diagnosis
    events: list[tuple[JobEvent, str]] = field(default_factory=list)
    event_count: int = 0
    lineage: list[continuation.Step] = field(default_factory=list)
    children: list[TuningJob] = field(default_factory=list)

    @property
    def retired(self) -> bool:
        return self.model is not None and self.model.retired()

    @property
    def served_checkpoint(self) -> str | None:
        return continuation.served_checkpoint(self.job)

    @property
    def can_continue(self) -> bool:
        """Offer "Improve this model": a finished tuned model of a model Google continues."""
        model = self.model
        return (
            self.job.state == JobState.SUCCEEDED
            and bool(self.job.tuned_model_name)
            and model is not None
            and model.continuous_tuning
            and not model.retired()
        )

    @property
    def steps_unreported(self) -> bool:
        """Succeeded, but Vertex never said how many steps were done (shown as done)."""
        job = self.job
        return job.state == JobState.SUCCEEDED and not job.completed_steps

    @property
    def active(self) -> bool:
        return self.job.state in ACTIVE_STATES

    @property
    def terminal(self) -> bool:
        return self.job.state in TERMINAL_STATES

    @property
    def state_label(self) -> str:
        return state_label(self.job.state)

    @property
    def tone(self) -> str:
        return state_tone(self.job.state)

    @property
    def sub_state(self) -> str:
        return sub_state_label(self.job.sub_state)

    @property
    def progress(self) -> float | None:
        if self.job.state == JobState.SUCCEEDED:
            return 1.0
        if not self.job.total_steps or self.job.completed_steps is None:
            return None
        return min(1.0, self.job.completed_steps / self.job.total_steps)

    @property
    def error(self) -> str:
        return error_text(self.job.error)

    @property
    def approval_reasons(self) -> list[str]:
        return [budget.reason_text(reason) for reason in self.job.approval_reasons or []]

    def person(self, user_id: int | None) -> str:
        return self.people.get(user_id or 0, _("someone")) if user_id else ""

    @property
    def chart(self) -> dict[str, Any]:
        return chart_data(self.series, self.verdict)

    @property
    def affected(self) -> list[dict[str, Any]]:
        return list((self.job.data_stats or {}).get("affected") or [])

    @property
    def duration_seconds(self) -> float | None:
        if self.job.started_at is None:
            return None
        end = self.job.finished_at
        if end is None:
            from app.db import utcnow

            end = utcnow()
        return max(0.0, (end - self.job.started_at).total_seconds())


def _people(session: Session, ids: set[int]) -> dict[int, str]:
    ids.discard(0)
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def job_view(session: Session, job: TuningJob, *, with_events: bool = True) -> JobView:
    version = session.get(DatasetVersion, job.dataset_version_id)
    dataset = session.get(Dataset, version.dataset_id) if version else None
    current = catalog.current(session)
    model = current.get(job.base_model)
    successor = current.successor_of(job.base_model)
    series = load_series(session, job.id)
    events: list[tuple[JobEvent, str]] = []
    count = 0
    if with_events:
        rows = list(
            session.scalars(
                select(JobEvent)
                .where(JobEvent.job_id == job.id)
                .order_by(JobEvent.id.desc())
                .limit(SHOWN_EVENTS)
            )
        )
        events = [(event, event_text(event.kind, event.params)) for event in rows]
        count = int(
            session.scalar(
                select(func.count()).select_from(JobEvent).where(JobEvent.job_id == job.id)
            )
            or 0
        )
    people = _people(
        session,
        {job.launched_by_id or 0, job.approved_by_id or 0, job.cancelled_by_id or 0}
        | {event.actor_id or 0 for event, _text in events},
    )
    return JobView(
        job,
        version,
        dataset,
        model,
        successor,
        people,
        series,
        diagnose(job, series),
        events,
        count,
        continuation.lineage(session, job) if with_events else [],
        _children(session, job) if with_events else [],
    )


def _children(session: Session, job: TuningJob) -> list[TuningJob]:
    """Jobs that continue from this one (newest first)."""
    return list(
        session.scalars(
            select(TuningJob)
            .where(TuningJob.parent_job_id == job.id)
            .order_by(TuningJob.id.desc())
            .limit(20)
        )
    )
