"""Tuning jobs over the JSON API (/api/v1): plan, create (same pre-flight as the page), get,
list, cancel, run log and training metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from app.auth.dependencies import ApiUser
from app.db import SessionDep, discard_changes
from app.errors import ValidationFailed
from app.projects.dependencies import ApiLaunchAccess, ApiViewAccess
from app.tuning import catalog, control, pages, service
from app.tuning.continuation import served_checkpoint
from app.tuning.models import JobEvent, TuningJob
from app.tuning.recommend import Choice
from app.tuning.texts import error_text, event_text, state_label

router = APIRouter(prefix="/api/v1", tags=["tuning"])
MAX_PAGE = 200


class ModelOut(BaseModel):
    id: str
    display_name: str
    family: str
    adapter_sizes: list[int]
    max_example_tokens: int
    max_validation_examples: int
    training_price_per_million_tokens: float | None
    currency: str
    price_source: str
    price_checked_on: str | None
    status: str
    retired: bool
    retirement_date: str | None
    successor: str | None
    tuning_regions: list[str]
    tuned_serving: str
    continuous_tuning: bool
    tuned_serving_price_multiplier: float | None


class JobIn(BaseModel):
    """Omit a hyperparameter to use the recommendation; send ``null`` to let Vertex choose."""

    version_id: int
    base_model: str | None = None
    display_name: str = ""
    epochs: int | None = None
    learning_rate_multiplier: float | None = None
    adapter_size: int | None = None
    acknowledge_leakage: bool = False
    # Continuous tuning: the finished job to continue from, and its checkpoint (default: the
    # one it serves). The base model is then the parent's.
    parent_job_id: int | None = None
    checkpoint_id: str | None = None


class JobOut(BaseModel):
    id: int
    project_id: int
    display_name: str
    dataset_version_id: int
    base_model: str
    state: str
    state_label: str
    sub_state: str | None
    completed_steps: int | None
    total_steps: int | None
    completed_epochs: int | None
    hyperparameters: dict[str, Any]
    recommendation: dict[str, Any]
    cost_estimate: dict[str, Any]
    billable_tokens: int | None
    actual_cost: float | None
    approval_reasons: list[dict[str, Any]]
    approved_by_id: int | None
    remote_name: str | None
    tuned_endpoint: str | None
    checkpoints: list[dict[str, Any]]
    served_checkpoint: str | None
    parent_job_id: int | None
    parent_checkpoint_id: str | None
    data_stats: dict[str, Any]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    url: str


class EventOut(BaseModel):
    id: int
    kind: str
    text: str
    params: dict[str, Any]
    actor_id: int | None
    created_at: datetime


class MetricsOut(BaseModel):
    job_id: int
    series: dict[str, list[list[float]]] = Field(description="metric → [[step, value], …]")
    diagnosis: dict[str, Any]


def _model_out(model: catalog.ModelSpec) -> ModelOut:
    return ModelOut(
        id=model.id,
        display_name=model.display_name,
        family=model.family,
        adapter_sizes=list(model.adapter_sizes),
        max_example_tokens=model.max_example_tokens,
        max_validation_examples=model.max_validation_examples,
        training_price_per_million_tokens=model.price_per_million,
        currency=model.currency,
        price_source=model.price_source,
        price_checked_on=model.price_checked_on.isoformat() if model.price_checked_on else None,
        status=model.status,
        retired=model.retired(),
        retirement_date=model.retirement_date.isoformat() if model.retirement_date else None,
        successor=model.successor,
        tuning_regions=list(model.tuning_regions),
        tuned_serving=model.tuned_serving,
        continuous_tuning=model.continuous_tuning,
        tuned_serving_price_multiplier=model.tuned_serving_price_multiplier,
    )


def job_out(job: TuningJob) -> JobOut:
    return JobOut(
        id=job.id,
        project_id=job.project_id,
        display_name=job.display_name,
        dataset_version_id=job.dataset_version_id,
        base_model=job.base_model,
        state=job.state,
        state_label=state_label(job.state),
        sub_state=job.sub_state,
        completed_steps=job.completed_steps,
        total_steps=job.total_steps,
        completed_epochs=job.completed_epochs,
        hyperparameters=job.hyperparameters or {},
        recommendation=job.recommendation or {},
        cost_estimate=job.cost_estimate or {},
        billable_tokens=job.billable_tokens,
        actual_cost=job.actual_cost,
        approval_reasons=job.approval_reasons or [],
        approved_by_id=job.approved_by_id,
        remote_name=job.remote_name,
        tuned_endpoint=job.tuned_endpoint,
        checkpoints=job.checkpoints or [],
        served_checkpoint=served_checkpoint(job),
        parent_job_id=job.parent_job_id,
        parent_checkpoint_id=job.parent_checkpoint_id,
        data_stats=job.data_stats or {},
        error=error_text(job.error) or None,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        url=f"/projects/{job.project_id}/tuning/{job.id}",
    )


@router.get("/tuning/models", response_model=list[ModelOut], name="api:tuning_models")
def models(session: SessionDep, user: ApiUser) -> list[ModelOut]:
    """The tunable base models (the catalog in force)."""
    return [_model_out(model) for model in catalog.current(session).models]


@router.get("/projects/{project_id}/tuning/plan", name="api:tuning_plan")
def plan(
    session: SessionDep, ctx: ApiViewAccess, version_id: int, base_model: str | None = None
) -> dict[str, Any]:
    """The recommendation, pre-flight checklist and cost estimate for a version and a model."""
    planned = service.plan(
        session, project_id=ctx.project.id, version_id=version_id, model_id=base_model
    )
    return {
        "version_id": planned.version.id,
        "base_model": planned.model.id,
        "recommendation": planned.recommendation.as_dict(),
        "estimate": planned.estimate.as_dict(),
        "ready": planned.ready,
        "checklist": [
            {
                "code": item.code,
                "status": item.status,
                "title": item.title,
                "message": item.message,
                "example_ids": list(item.example_ids),
            }
            for item in planned.checklist.items
        ],
        "approval_needed": bool(planned.approval_reasons),
    }


@router.get(
    "/projects/{project_id}/tuning/jobs", response_model=list[JobOut], name="api:tuning_jobs"
)
def list_jobs(
    session: SessionDep,
    ctx: ApiViewAccess,
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0),
) -> list[JobOut]:
    """The project's jobs, newest first."""
    rows = session.scalars(
        select(TuningJob)
        .where(TuningJob.project_id == ctx.project.id)
        .order_by(TuningJob.created_at.desc(), TuningJob.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [job_out(job) for job in rows]


@router.post(
    "/projects/{project_id}/tuning/jobs",
    response_model=JobOut,
    status_code=201,
    name="api:tuning_create",
)
def create_job(session: SessionDep, ctx: ApiLaunchAccess, body: JobIn) -> Response | JobOut:
    """Create a job after the same pre-flight as the page (422 with the problems otherwise)."""
    recommended, _model = service.recommendation(
        session,
        project_id=ctx.project.id,
        version_id=body.version_id,
        model_id=body.base_model,
        parent_job_id=body.parent_job_id,
    )
    given = body.model_fields_set

    def pick(name: str, default: Any) -> Any:
        return getattr(body, name) if name in given else default

    choice = Choice(
        pick("epochs", recommended.epochs),
        pick("learning_rate_multiplier", recommended.learning_rate_multiplier),
        pick("adapter_size", recommended.adapter_size),
    )
    try:
        job = service.create_job(
            session,
            actor=ctx.user,
            project=ctx.project,
            version_id=body.version_id,
            model_id=body.base_model,
            choice=choice,
            display_name=body.display_name,
            leakage_acknowledged=body.acknowledge_leakage,
            parent_job_id=body.parent_job_id,
            checkpoint_id=body.checkpoint_id,
        )
    except ValidationFailed as error:
        discard_changes(session)
        return JSONResponse(
            {"error": {"code": "not_ready", "message": error.message, "fields": error.errors}},
            status_code=422,
        )
    session.flush()
    return job_out(job)


@router.get(
    "/projects/{project_id}/tuning/jobs/{job_id}", response_model=JobOut, name="api:tuning_job"
)
def get_job(session: SessionDep, ctx: ApiViewAccess, job_id: int) -> JobOut:
    return job_out(service.get_job(session, project_id=ctx.project.id, job_id=job_id))


@router.post(
    "/projects/{project_id}/tuning/jobs/{job_id}/cancel",
    response_model=JobOut,
    name="api:tuning_cancel",
)
def cancel_job(session: SessionDep, ctx: ApiLaunchAccess, job_id: int) -> JobOut:
    job = service.get_job(session, project_id=ctx.project.id, job_id=job_id)
    return job_out(control.cancel(session, actor=ctx.user, job=job, project=ctx.project))


@router.get(
    "/projects/{project_id}/tuning/jobs/{job_id}/events",
    response_model=list[EventOut],
    name="api:tuning_events",
)
def job_events(session: SessionDep, ctx: ApiViewAccess, job_id: int) -> list[EventOut]:
    """The run log, oldest first."""
    job = service.get_job(session, project_id=ctx.project.id, job_id=job_id)
    events = session.scalars(
        select(JobEvent).where(JobEvent.job_id == job.id).order_by(JobEvent.id)
    )
    return [
        EventOut(
            id=e.id,
            kind=e.kind,
            text=event_text(e.kind, e.params),
            params=e.params,
            actor_id=e.actor_id,
            created_at=e.created_at,
        )
        for e in events
    ]


@router.get(
    "/projects/{project_id}/tuning/jobs/{job_id}/metrics",
    response_model=MetricsOut,
    name="api:tuning_metrics",
)
def job_metrics(session: SessionDep, ctx: ApiViewAccess, job_id: int) -> MetricsOut:
    """Training and validation loss and token accuracy per step, with the diagnosis."""
    job = service.get_job(session, project_id=ctx.project.id, job_id=job_id)
    series = pages.load_series(session, job.id)
    verdict = pages.diagnose(job, series)
    checkpoint = verdict.checkpoint
    return MetricsOut(
        job_id=job.id,
        series={name: [[step, value] for step, value in points] for name, points in series.items()},
        diagnosis={
            "verdict": verdict.verdict,
            "text": verdict.text,
            "provisional": verdict.provisional,
            "advice": verdict.advice_texts(),
            "checkpoint": None
            if checkpoint is None
            else {
                "checkpoint_id": checkpoint.checkpoint_id,
                "epoch": checkpoint.epoch,
                "step": checkpoint.step,
            },
            "checkpoint_reason": verdict.checkpoint_text,
        },
    )
