"""Bringing a row up to date with what Vertex reports, appending every change to the run log.

``apply`` takes a freshly read ``RemoteTuningJob`` (and optionally its metrics) and updates
state, sub-state, progress, data statistics (truncated/dropped examples mapped back to our
example ids), checkpoints, endpoint, error and the training curves. ``finish`` ends a job and
announces it exactly once (in-app, and by e-mail when SMTP is configured).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.datasets.versions.models import DatasetVersionExample
from app.db import rows_affected, utcnow
from app.genai import types as remote_types
from app.genai.types import RemoteTuningJob, TuningMetrics
from app.i18n import N_
from app.notifications import service as notifications
from app.notifications.service import Kind
from app.projects.models import Project
from app.tuning.cost import price
from app.tuning.models import TERMINAL_STATES, JobState, MetricPoint, TuningJob
from app.tuning.run_log import add_event

NOTIFICATION_KINDS = {
    "tuning.succeeded": Kind(
        title=N_("Tuning finished: %(job)s"),
        body=N_(
            "The tuned model of “%(job)s” in %(project)s is ready. Open the job for its curves "
            "and diagnosis."
        ),
    ),
    "tuning.failed": Kind(
        title=N_("Tuning failed: %(job)s"),
        body=N_(
            "The tuning job “%(job)s” in %(project)s failed. Open it to see why and what to do."
        ),
    ),
    "tuning.cancelled": Kind(
        title=N_("Tuning cancelled: %(job)s"),
        body=N_("The tuning job “%(job)s” in %(project)s was cancelled."),
    ),
}

REMOTE_TO_STATE = {
    remote_types.QUEUED: JobState.PENDING,
    remote_types.PENDING: JobState.PENDING,
    remote_types.RUNNING: JobState.RUNNING,
    remote_types.SUCCEEDED: JobState.SUCCEEDED,
    remote_types.FAILED: JobState.FAILED,
    remote_types.EXPIRED: JobState.FAILED,
    remote_types.CANCELLING: JobState.CANCELLING,
    remote_types.CANCELLED: JobState.CANCELLED,
}
METRIC_NAMES = {
    remote_types.TRAIN_LOSS: "train_loss",
    remote_types.EVAL_LOSS: "validation_loss",
    remote_types.TRAIN_ACCURACY: "train_accuracy",
    remote_types.EVAL_ACCURACY: "validation_accuracy",
}
MAX_LISTED_AFFECTED = 500


def _event(
    session: Session,
    job: TuningJob,
    kind: str,
    params: dict[str, Any] | None = None,
    message: str = "",
) -> None:
    add_event(session, job, kind, params, message=message)


def target_state(job: TuningJob, remote: RemoteTuningJob) -> str:
    state = REMOTE_TO_STATE.get(remote.state, JobState(job.state))
    if job.state == JobState.CANCELLING and state in (JobState.PENDING, JobState.RUNNING):
        return JobState.CANCELLING  # our cancel is on its way; Vertex has not seen it yet
    return state


def _progress(session: Session, job: TuningJob, remote: RemoteTuningJob) -> None:
    if remote.sub_state != job.sub_state and remote.sub_state:
        _event(session, job, "sub_state", {"sub_state": remote.sub_state})
    job.sub_state = remote.sub_state
    if remote.total_steps and remote.total_steps != job.total_steps:
        job.total_steps = remote.total_steps
    steps = remote.completed_steps
    if steps is not None and steps != job.completed_steps:
        job.completed_steps = steps
        if job.total_steps:
            _event(session, job, "progress", {"done": steps, "total": job.total_steps})
    job.completed_epochs = remote.completed_epochs


def _affected(
    session: Session, job: TuningJob, stats: remote_types.DataStats
) -> list[dict[str, Any]]:
    """Vertex's 1-based line numbers in the training file → our example ids (file order)."""
    pairs = stats.affected_examples[:MAX_LISTED_AFFECTED]
    positions = {index - 1: (index, reason) for index, reason in pairs}
    rows = session.execute(
        select(DatasetVersionExample.position, DatasetVersionExample.example_id).where(
            DatasetVersionExample.version_id == job.dataset_version_id,
            DatasetVersionExample.split == "train",
            DatasetVersionExample.position.in_(list(positions)),
        )
    ).all()
    by_position = dict(rows)
    return [
        {"index": index, "example_id": by_position.get(index - 1), "reason": reason}
        for index, reason in pairs
    ]


def _data_stats(session: Session, job: TuningJob, remote: RemoteTuningJob) -> None:
    stats = remote.data_stats
    if stats is None or job.data_stats:
        return
    affected = _affected(session, job, stats)
    job.data_stats = {
        "example_count": stats.example_count,
        "billable_tokens_per_epoch": stats.billable_tokens,
        "total_steps": stats.total_steps,
        "affected_count": stats.affected_count or len(affected),
        "affected": affected,
    }
    epochs = (
        remote.epochs
        or job.hyperparameters.get("epochs")
        or (job.cost_estimate or {}).get("epochs")
        or 1
    )
    if stats.billable_tokens is not None:
        job.billable_tokens = int(stats.billable_tokens) * int(epochs)
        job.actual_cost = price(
            job.billable_tokens, (job.cost_estimate or {}).get("price_per_million")
        )
    _event(
        session,
        job,
        "data_stats",
        {
            "examples": stats.example_count or 0,
            "tokens": stats.billable_tokens or 0,
            "affected": job.data_stats["affected_count"] or 0,
        },
    )


def _results(session: Session, job: TuningJob, remote: RemoteTuningJob) -> None:
    checkpoints = [
        {"checkpoint_id": c.checkpoint_id, "epoch": c.epoch, "step": c.step, "endpoint": c.endpoint}
        for c in remote.checkpoints
    ]
    if checkpoints and checkpoints != job.checkpoints:
        job.checkpoints = checkpoints
        _event(session, job, "checkpoints", {"count": len(checkpoints)})
    if remote.tuned_endpoint:
        job.tuned_endpoint, job.tuned_model_name = remote.tuned_endpoint, remote.tuned_model
    if remote.started_at and job.started_at is None:
        job.started_at = remote.started_at


def store_metrics(session: Session, job: TuningJob, metrics: TuningMetrics) -> int:
    """Append the points after the last stored step of each curve; returns how many."""
    known = dict(
        session.execute(
            select(MetricPoint.metric, func.max(MetricPoint.step))
            .where(MetricPoint.job_id == job.id)
            .group_by(MetricPoint.metric)
        ).all()
    )
    added = 0
    for vertex_name, metric in METRIC_NAMES.items():
        points = metrics.points(vertex_name)
        after = known.get(metric) or 0
        for point in points:
            if point.step > after:
                session.add(
                    MetricPoint(job_id=job.id, metric=metric, step=point.step, value=point.value)
                )
                added += 1
        if points:
            final = points[-1].value
            if metric == "train_loss":
                job.final_train_loss = final
            elif metric == "validation_loss":
                job.final_validation_loss = final
    return added


def _metrics_note(session: Session, job: TuningJob, metrics: TuningMetrics) -> None:
    """Say why the curves cannot be read (no Experiment or TensorBoard data, a missing
    permission…) instead of silently showing none; logged once per new reason."""
    note = metrics.note[:500] if metrics.source != "tensorboard" and metrics.note else None
    if note == job.metrics_note:
        return
    job.metrics_note = note
    if note:
        _event(session, job, "metrics_unavailable", {"note": note})


def last_metric_step(session: Session, job_id: int) -> int:
    return int(
        session.scalar(
            select(func.max(MetricPoint.step)).where(
                MetricPoint.job_id == job_id, MetricPoint.metric == "train_loss"
            )
        )
        or 0
    )


def apply(
    session: Session, job: TuningJob, remote: RemoteTuningJob, metrics: TuningMetrics | None = None
) -> None:
    """Update the row from Vertex's view of the job, logging each change."""
    job.remote_state = remote.state
    _progress(session, job, remote)
    _data_stats(session, job, remote)
    _results(session, job, remote)
    if metrics is not None:
        store_metrics(session, job, metrics)
        _metrics_note(session, job, metrics)
    state = target_state(job, remote)
    job.updated_at = utcnow()
    if state == job.state:
        return
    previous = job.state
    if state in TERMINAL_STATES:
        error = None
        if state != JobState.SUCCEEDED and remote.error_message:
            from app.tuning.texts import remote_error

            error = remote_error(remote.error_code, remote.error_message)
        finish(session, job, state, error=error, ended_at=remote.ended_at, previous=previous)
        return
    job.state = state
    _event(session, job, "state_changed", {"from": previous, "to": state})


def finish(
    session: Session,
    job: TuningJob,
    state: str,
    *,
    error: dict[str, Any] | None = None,
    ended_at: Any = None,
    previous: str | None = None,
) -> None:
    """End the job (succeeded, failed or cancelled), log it, and announce it once."""
    previous = previous or job.state
    job.state = state
    job.finished_at = ended_at or utcnow()
    if state != JobState.SUCCEEDED and state != JobState.CANCELLED:
        job.error = error
    _event(session, job, "state_changed", {"from": previous, "to": state})
    if state == JobState.SUCCEEDED:
        _event(session, job, "succeeded")
    elif state == JobState.FAILED:
        _event(session, job, "failed", {"error": error or {}}, message=(error or {}).get("raw", ""))
    else:
        _event(session, job, "cancelled")
    announce(session, job)


def announce(session: Session, job: TuningJob) -> bool:
    """Notify the launcher and the project's managers that the job ended (exactly once)."""
    from app.tuning.service import manager_ids

    session.flush()
    claimed = session.execute(
        update(TuningJob)
        .where(TuningJob.id == job.id, TuningJob.notified_at.is_(None))
        .values(notified_at=utcnow())
    )
    if rows_affected(claimed) != 1:
        return False
    project = session.get(Project, job.project_id)
    users = _recipients(job.launched_by_id, manager_ids(session, job.project_id))
    notifications.notify(
        session,
        user_ids=users,
        kind=f"tuning.{job.state}",
        params={"job": job.display_name, "project": project.name if project else ""},
        link=f"/projects/{job.project_id}/tuning/{job.id}",
        project_id=job.project_id,
    )
    return True


def _recipients(launcher: int | None, managers: Iterable[int]) -> list[int]:
    return list(dict.fromkeys([*([launcher] if launcher else []), *managers]))
