"""What managers do to a tuning job after it was created: approve or decline a launch waiting
for approval, and cancel (at once while nothing exists on Vertex, else through cancelling →
cancelled). Each is a compare-and-set on the state, so two clicks never act twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import User
from app.db import rows_affected, utcnow
from app.errors import Conflict
from app.i18n import _
from app.projects.models import Project
from app.tuning import sync
from app.tuning.models import JobState, TuningJob
from app.tuning.run_log import add_event
from app.tuning.service import CANCEL_TASK, LAUNCH_TASK
from app.worker import enqueue_after_commit


def _move(session: Session, job: TuningJob, expected: str, **values: Any) -> bool:
    """Compare-and-set the job's state; refreshes the object on success."""
    result = session.execute(
        update(TuningJob)
        .where(TuningJob.id == job.id, TuningJob.state == expected)
        .values(updated_at=utcnow(), **values)
    )
    if rows_affected(result) != 1:
        return False
    session.refresh(job)
    return True


def approve(session: Session, *, actor: User, job: TuningJob, project: Project) -> TuningJob:
    now = utcnow()
    moved = _move(
        session,
        job,
        JobState.AWAITING_APPROVAL,
        state=JobState.QUEUED,
        approved_by_id=actor.id,
        approved_at=now,
        queued_at=now,
    )
    if not moved:
        raise Conflict(_("This job is no longer waiting for approval."))
    add_event(session, job, "approved", {"user": actor.name}, actor=actor)
    add_event(session, job, "queued")
    enqueue_after_commit(session, LAUNCH_TASK, job.id)
    audit.record(
        session,
        actor=actor,
        action="tuning_job.approve",
        object_type="tuning_job",
        object_id=job.id,
        project_id=project.id,
        summary=job.display_name,
        details={"reasons": job.approval_reasons, "estimated_cost": job.estimated_cost},
    )
    return job


def decline(session: Session, *, actor: User, job: TuningJob, project: Project) -> TuningJob:
    moved = _move(
        session,
        job,
        JobState.AWAITING_APPROVAL,
        state=JobState.CANCELLED,
        cancelled_by_id=actor.id,
        finished_at=utcnow(),
    )
    if not moved:
        raise Conflict(_("This job is no longer waiting for approval."))
    add_event(session, job, "declined", {"user": actor.name}, actor=actor)
    sync.announce(session, job)
    audit.record(
        session,
        actor=actor,
        action="tuning_job.decline",
        object_type="tuning_job",
        object_id=job.id,
        project_id=project.id,
        summary=job.display_name,
    )
    return job


# From each state, where a cancellation goes: nothing on Vertex yet → cancelled at once; a launch
# in progress notices ``cancel_requested_at`` once the remote job exists and stops it; a remote
# job is asked to stop (cancelling → cancelled, as Vertex reports).
CANCEL_MOVES = (
    (JobState.AWAITING_APPROVAL, JobState.CANCELLED),
    (JobState.QUEUED, JobState.CANCELLED),
    (JobState.LAUNCHING, JobState.LAUNCHING),
    (JobState.PENDING, JobState.CANCELLING),
    (JobState.RUNNING, JobState.CANCELLING),
)


def stoppable_orphan(job: TuningJob) -> bool:
    """A failed launch whose remote job exists but was never recorded, not yet stopped."""
    return (
        job.state == JobState.FAILED
        and bool(job.unrecorded_remote_name)
        and job.cancel_requested_at is None
    )


def _request_cancel(session: Session, job: TuningJob, actor: User) -> bool:
    now = utcnow()
    if stoppable_orphan(job):
        # Its remote job still runs: the cancel task stops it (see launch._record_failed).
        values = {"cancelled_by_id": actor.id, "cancel_requested_at": now}
        if _move(session, job, JobState.FAILED, state=JobState.CANCELLING, **values):
            enqueue_after_commit(session, CANCEL_TASK, job.id)
            return True
        return False
    for current, target in CANCEL_MOVES:
        ended = {"finished_at": now} if target == JobState.CANCELLED else {}
        values = {"cancelled_by_id": actor.id, "cancel_requested_at": now, **ended}
        if _move(session, job, current, state=target, **values):
            if target == JobState.CANCELLING:
                enqueue_after_commit(session, CANCEL_TASK, job.id)
            return True
    return False


def cancel(session: Session, *, actor: User, job: TuningJob, project: Project) -> TuningJob:
    """Stop a job (see ``CANCEL_MOVES``); refuses a job that already ended."""
    if not _request_cancel(session, job, actor):
        raise Conflict(_("This job has already ended or is being cancelled."))
    add_event(session, job, "cancel_requested", {"user": actor.name}, actor=actor)
    if job.state == JobState.CANCELLED:
        add_event(session, job, "cancelled")
        sync.announce(session, job)
    audit.record(
        session,
        actor=actor,
        action="tuning_job.cancel",
        object_type="tuning_job",
        object_id=job.id,
        project_id=project.id,
        summary=job.display_name,
    )
    return job
