"""Page contexts of the tuning screens (the router stays HTTP only)."""

from __future__ import annotations

from dataclasses import replace
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
from app.tuning import budget, catalog, jobs
from app.tuning.forms import JobForm, parse_choice
from app.tuning.models import ACTIVE_STATES, JobState, TuningJob
from app.tuning.recommend import KNOB_HELP
from app.tuning.views import series_labels

JOBS_PER_PAGE = 50
ADAPTER_CHOICES = (1, 2, 4, 8, 16)  # what Vertex's Gemini models accept at most


def crumbs(ctx: ProjectContext, *tail: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    project = ctx.project
    return [
        (_("Projects"), "/"),
        (project.name, f"/projects/{project.id}"),
        (_("Tuning"), f"/projects/{project.id}/tuning"),
        *tail,
    ]


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
        "has_versions": bool(jobs.list_versions(session, project_id=project_id)),
        "breadcrumbs": [*crumbs(ctx)[:-1], (_("Tuning"), None)],
    }


def new_job_context(
    session: Session, ctx: ProjectContext, form: JobForm, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    """The planner: version and model choice, recommendation, knobs, checklist and cost."""
    versions = jobs.list_versions(session, project_id=ctx.project.id)
    context: dict[str, Any] = {
        "ctx": ctx,
        "versions": versions,
        "models": catalog.current(session).choices(),
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
        recommended, model = jobs.recommendation(
            session, project_id=ctx.project.id, version_id=version_id, model_id=model_id
        )
    except (NotFound, ValidationFailed) as error:
        context["errors"].setdefault("version", error.message)
        return context
    form = form.with_recommendation(recommended, model.id)
    choice, choice_errors = parse_choice(form)
    planned = jobs.plan(
        session,
        project_id=ctx.project.id,
        version_id=version_id,
        model_id=model.id,
        choice=None if choice_errors else choice,
        leakage_acknowledged=form.acknowledge_leakage,
    )
    field_errors = {**choice_errors, **planned.choice_errors, **context["errors"]}
    context.update(form=form, planned=planned, errors=field_errors, choice_ok=not choice_errors)
    return context


def job_actions(ctx: ProjectContext, job: TuningJob) -> dict[str, bool]:
    return {
        "can_cancel": ctx.can(Permission.LAUNCH_JOBS)
        and job.state in ACTIVE_STATES | {JobState.AWAITING_APPROVAL}
        and job.state != JobState.CANCELLING,
        "can_approve": ctx.can(Permission.MANAGE) and job.state == JobState.AWAITING_APPROVAL,
        "can_retune": ctx.can(Permission.LAUNCH_JOBS),
    }


def chart_labels() -> dict[str, str]:
    return series_labels()
