"""Tuning jobs from a person's point of view: plan one, launch it, approve it, cancel it.

``plan`` gathers everything the "new job" page and the API show before launch (recommendation,
checklist, estimate, approval). ``create_job`` re-runs the same plan server-side, refuses a job
that is not ready, and either queues the launch (sent after commit) or waits for a manager.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import User
from app.config import get_settings
from app.datasets.models import Dataset
from app.datasets.versions.models import DatasetVersion
from app.db import utcnow
from app.errors import NotFound, ValidationFailed
from app.genai.connection import current_config
from app.i18n import N_, _
from app.notifications import service as notifications
from app.notifications.service import Kind
from app.projects.models import Project, ProjectMember
from app.projects.overview import Step
from app.projects.permissions import Role
from app.projects.service import ProjectContext
from app.tuning import budget, catalog, continuation, cost, preflight
from app.tuning.catalog import ModelSpec
from app.tuning.models import JobState, TuningJob
from app.tuning.recommend import Choice, DatasetStats, Recommendation, check_choice, recommend
from app.tuning.run_log import add_event
from app.worker import enqueue_after_commit

AUDIT_ACTIONS = {
    "tuning_job.create": N_("Launched a tuning job"),
    "tuning_job.approve": N_("Approved a tuning job"),
    "tuning_job.decline": N_("Declined a tuning job"),
    "tuning_job.cancel": N_("Cancelled a tuning job"),
}
NOTIFICATION_KINDS = {
    "tuning.approval_needed": Kind(
        title=N_("A tuning job needs your approval in %(project)s"),
        body=N_(
            "%(by)s wants to launch “%(job)s” (estimated %(cost)s). Open it to approve or decline."
        ),
    ),
}

LAUNCH_TASK = "tuning.launch_job"
CANCEL_TASK = "tuning.cancel_job"
MAX_DISPLAY_NAME = 128


@dataclass(frozen=True)
class Plan:
    version: DatasetVersion
    dataset: Dataset
    model: ModelSpec
    stats: DatasetStats
    recommendation: Recommendation
    choice: Choice
    choice_errors: dict[str, str]
    estimate: cost.Estimate
    budget: budget.BudgetView
    approval_reasons: list[dict[str, Any]]
    checklist: preflight.Checklist
    parent: TuningJob | None = None  # continuous tuning: the job this one continues from
    checkpoint_id: str | None = None

    @property
    def ready(self) -> bool:
        return self.checklist.ready and not self.choice_errors


def get_version(
    session: Session, *, project_id: int, version_id: int
) -> tuple[DatasetVersion, Dataset]:
    version = session.get(DatasetVersion, version_id)
    if version is None or version.project_id != project_id:
        raise NotFound(_("This dataset version does not exist in this project."))
    dataset = session.get(Dataset, version.dataset_id)
    if dataset is None:
        raise NotFound(_("This dataset version does not exist in this project."))
    return version, dataset


def list_versions(session: Session, *, project_id: int) -> list[tuple[DatasetVersion, Dataset]]:
    """The project's versions, newest first (what a new job can be tuned on)."""
    rows = session.execute(
        select(DatasetVersion, Dataset)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(DatasetVersion.project_id == project_id)
        .order_by(DatasetVersion.created_at.desc(), DatasetVersion.id.desc())
        .limit(200)
    ).all()
    return [(version, dataset) for version, dataset in rows]


def _model(model_id: str | None) -> ModelSpec:
    """The catalog's model (a retired one too: pre-flight refuses it with its successor)."""
    current = catalog.current()
    model = current.get(model_id or current.default_model)
    if model is None:
        raise ValidationFailed({"base_model": _("Choose one of the listed models.")})
    return model


def _emulator_scale() -> float | None:
    return get_settings().emulator_time_scale if current_config().is_emulator else None


def _parent(session: Session, project_id: int, parent_job_id: int | None) -> TuningJob | None:
    if parent_job_id is None:
        return None
    return continuation.parent_job(session, project_id=project_id, job_id=parent_job_id)


def recommendation(
    session: Session,
    *,
    project_id: int,
    version_id: int,
    model_id: str | None,
    parent_job_id: int | None = None,
) -> tuple[Recommendation, ModelSpec]:
    """The recommendation alone (no checklist): what the knobs start from. A continued job
    keeps its parent's base model."""
    version, _dataset = get_version(session, project_id=project_id, version_id=version_id)
    parent = _parent(session, project_id, parent_job_id)
    model = _model(parent.base_model if parent else model_id)
    recommended = recommend(preflight.dataset_stats(version), model)
    if parent is not None:
        label = continuation.version_label(session, parent)
        recommended = continuation.recommendation(recommended, parent, label)
    return recommended, model


def plan(
    session: Session,
    *,
    project_id: int,
    version_id: int,
    model_id: str | None,
    choice: Choice | None = None,
    leakage_acknowledged: bool = False,
    parent_job_id: int | None = None,
    checkpoint_id: str | None = None,
) -> Plan:
    """Everything to show (and check) before a launch. ``choice=None``: the recommendation."""
    version, dataset = get_version(session, project_id=project_id, version_id=version_id)
    parent = _parent(session, project_id, parent_job_id)
    recommended, model = recommendation(
        session,
        project_id=project_id,
        version_id=version_id,
        model_id=model_id,
        parent_job_id=parent_job_id,
    )
    stats = preflight.dataset_stats(version)
    chosen = choice or Choice(
        recommended.epochs, recommended.learning_rate_multiplier, recommended.adapter_size
    )
    estimate = cost.estimate(
        stats, model, epochs=chosen.epochs, emulator_time_scale=_emulator_scale()
    )
    money = budget.view(session, project_id=project_id)
    reasons = budget.approval_reasons(money, estimate.cost)
    checkpoint = continuation.checkpoint_or_served(parent, checkpoint_id) if parent else None
    given = preflight.PreflightInput(
        version, stats, model, chosen, leakage_acknowledged, reasons, parent, checkpoint
    )
    return Plan(
        version,
        dataset,
        model,
        stats,
        recommended,
        chosen,
        check_choice(chosen, model),
        estimate,
        money,
        reasons,
        preflight.run(session, given),
        parent,
        checkpoint,
    )


def _display_name(
    name: str,
    dataset: Dataset,
    version: DatasetVersion,
    model: ModelSpec,
    parent: TuningJob | None = None,
) -> str:
    name = " ".join(name.split())
    if not name:
        name = f"{dataset.name} v{version.number} · {model.display_name}"
        if parent is not None:
            name += " ← #" + str(parent.id)  # a continued run: which job it grew from
    return name[:MAX_DISPLAY_NAME]


def manager_ids(session: Session, project_id: int) -> list[int]:
    return list(
        session.scalars(
            select(ProjectMember.user_id).where(
                ProjectMember.project_id == project_id, ProjectMember.role == Role.MANAGER
            )
        )
    )


def _refuse_unready(planned: Plan) -> None:
    errors = dict(planned.choice_errors)
    failures = planned.checklist.failures()
    if failures:
        errors["__all__"] = _("Not ready to launch: %(problems)s") % {
            "problems": " ".join(item.message for item in failures)
        }
    if errors:
        raise ValidationFailed(errors)


def create_job(
    session: Session,
    *,
    actor: User,
    project: Project,
    version_id: int,
    model_id: str | None,
    choice: Choice,
    display_name: str = "",
    leakage_acknowledged: bool = False,
    parent_job_id: int | None = None,
    checkpoint_id: str | None = None,
) -> TuningJob:
    """Launch (or, over budget, submit for approval) a tuning job after the same pre-flight
    the page showed; refuses with per-field messages when it is not ready. With
    ``parent_job_id`` the job continues from that job's tuned model (``checkpoint_id``, or the
    checkpoint it serves)."""
    planned = plan(
        session,
        project_id=project.id,
        version_id=version_id,
        model_id=model_id,
        choice=choice,
        leakage_acknowledged=leakage_acknowledged,
        parent_job_id=parent_job_id,
        checkpoint_id=checkpoint_id,
    )
    _refuse_unready(planned)
    job = _new_row(
        planned, actor=actor, project=project, name=display_name, leakage=leakage_acknowledged
    )
    session.add(job)
    session.flush()
    add_event(session, job, "created", {"user": actor.name}, actor=actor)
    if job.state == JobState.AWAITING_APPROVAL:
        add_event(session, job, "approval_requested", {"reasons": planned.approval_reasons})
        _ask_managers(session, job, project, actor, planned.estimate)
    else:
        add_event(session, job, "queued")
        enqueue_after_commit(session, LAUNCH_TASK, job.id)
    audit.record(
        session,
        actor=actor,
        action="tuning_job.create",
        object_type="tuning_job",
        object_id=job.id,
        project_id=project.id,
        summary=job.display_name,
        details={
            "model": job.base_model,
            "hyperparameters": job.hyperparameters,
            "continues": job.parent_job_id,
            "checkpoint": job.parent_checkpoint_id,
        },
    )
    return job


def _new_row(
    planned: Plan, *, actor: User, project: Project, name: str, leakage: bool
) -> TuningJob:
    """The job as planned: what was chosen next to what was recommended, the estimate, the
    checklist at launch; waiting for approval when the guardrails say so."""
    needs_approval = bool(planned.approval_reasons)
    now = utcnow()
    return TuningJob(
        project_id=project.id,
        dataset_version_id=planned.version.id,
        base_model=planned.model.id,
        display_name=_display_name(
            name, planned.dataset, planned.version, planned.model, planned.parent
        ),
        hyperparameters=planned.choice.as_dict(),
        recommendation=planned.recommendation.as_dict(),
        cost_estimate=planned.estimate.as_dict(),
        estimated_cost=planned.estimate.cost,
        state=JobState.AWAITING_APPROVAL if needs_approval else JobState.QUEUED,
        remote_label=uuid.uuid4().hex,
        approval_reasons=planned.approval_reasons,
        preflight={**planned.checklist.as_dict(), "leakage_acknowledged": leakage},
        launched_by_id=actor.id,
        queued_at=None if needs_approval else now,
        updated_at=now,
        parent_job_id=planned.parent.id if planned.parent else None,
        parent_checkpoint_id=planned.checkpoint_id,
        pre_tuned_model=planned.parent.tuned_model_name if planned.parent else None,
    )


def _ask_managers(
    session: Session, job: TuningJob, project: Project, actor: User, estimate: cost.Estimate
) -> None:
    from app.i18n import format_currency

    notifications.notify(
        session,
        user_ids=manager_ids(session, project.id),
        kind="tuning.approval_needed",
        params={
            "project": project.name,
            "job": job.display_name,
            "by": actor.name,
            "cost": format_currency(estimate.cost or 0.0, estimate.currency),
        },
        link=f"/projects/{project.id}/tuning/{job.id}",
        project_id=project.id,
    )


def get_job(session: Session, *, project_id: int, job_id: int) -> TuningJob:
    job = session.get(TuningJob, job_id)
    if job is None or job.project_id != project_id:
        raise NotFound(_("This tuning job does not exist in this project."))
    return job


def tuning_step(session: Session, ctx: ProjectContext) -> Step:
    """The overview checklist's "Tune a model" step."""
    launched = session.scalar(
        select(TuningJob.id).where(TuningJob.project_id == ctx.project.id).limit(1)
    )
    return Step(
        _("Tune a model"),
        _("Recommended settings and a cost estimate are prepared for you."),
        launched is not None,
        f"/projects/{ctx.project.id}/tuning",
    )
