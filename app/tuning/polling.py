"""Beat-driven polling of running jobs, in bounded batches, never twice at once for one job.

Every ``POLL_TICK`` seconds beat runs ``dispatch``: it picks the due jobs (non-terminal, with a
remote job, not polled for ``poll_interval()``), oldest-polled first, up to ``MAX_PER_CYCLE``,
and claims them all in ONE compare-and-set statement (``poll_generation + 1`` and a lease in
``poll_claimed_until``, only where no lease is running). Claimed jobs go out in tasks of
``POLL_BATCH`` with ``expires``: a job whose poll is queued is not due again until its lease
ends, and a message that outlived its lease is dropped by the worker, so duplicate poll tasks
cannot pile up. A poll task only writes if the job still carries the generation it was sent
with.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.db import rows_affected, task_session, utcnow
from app.genai import gateway
from app.genai.connection import current_config
from app.genai.errors import GeminiError, NotFoundGeminiError, TransientGeminiError
from app.tuning import sync
from app.tuning.models import POLLED_STATES, JobState, TuningJob
from app.worker import enqueue_after_commit

logger = logging.getLogger("tunedesk.tuning")

POLL_TICK = 5.0  # seconds between beat dispatches
POLL_BATCH = 25  # jobs per poll task
MAX_PER_CYCLE = 2000  # jobs claimed per dispatch at most
POLL_LEASE = timedelta(seconds=90)
MESSAGE_EXPIRES = 60.0  # < lease: a stale message is dropped before its job can be re-claimed
EMULATOR_INTERVAL = timedelta(seconds=3)
VERTEX_INTERVAL = timedelta(seconds=30)
CANCEL_RESEND_AFTER = timedelta(minutes=2)


def poll_interval() -> timedelta:
    """How often one job is polled: the local emulator answers instantly; Vertex has quotas."""
    return EMULATOR_INTERVAL if current_config().is_emulator else VERTEX_INTERVAL


@dataclass(frozen=True)
class Dispatch:
    claimed: int
    batches: int


def dispatch(session: Session, *, now_interval: timedelta | None = None) -> Dispatch:
    """Claim the due jobs and queue their polls (sent after commit)."""
    now = utcnow()
    due_before = now - (now_interval if now_interval is not None else poll_interval())
    free = or_(TuningJob.poll_claimed_until.is_(None), TuningJob.poll_claimed_until < now)
    due = (
        select(TuningJob.id)
        .where(
            TuningJob.state.in_(POLLED_STATES),
            TuningJob.remote_name.is_not(None),
            or_(TuningJob.last_polled_at.is_(None), TuningJob.last_polled_at < due_before),
            free,
        )
        .order_by(TuningJob.last_polled_at.asc().nulls_first(), TuningJob.id)
        .limit(MAX_PER_CYCLE)
    )
    claimed = session.execute(
        update(TuningJob)
        .where(TuningJob.id.in_(due.scalar_subquery()), free)
        .values(poll_generation=TuningJob.poll_generation + 1, poll_claimed_until=now + POLL_LEASE)
        .returning(TuningJob.id, TuningJob.poll_generation, TuningJob.last_polled_at)
        .execution_options(synchronize_session=False)
    ).all()
    ordered = sorted(claimed, key=lambda row: (row[2] is not None, row[2] or now, row[0]))
    pairs = [[row[0], row[1]] for row in ordered]
    batches = [pairs[i : i + POLL_BATCH] for i in range(0, len(pairs), POLL_BATCH)]
    for batch in batches:
        enqueue_after_commit(session, "tuning.poll_jobs", batch, expires=MESSAGE_EXPIRES)
    return Dispatch(len(pairs), len(batches))


@dataclass(frozen=True)
class _Target:
    job_id: int
    generation: int
    remote_name: str
    state: str
    cancel_requested_long_ago: bool
    metrics_step: int


def _target(job_id: int, generation: int) -> _Target | None:
    with task_session() as session:
        job = session.get(TuningJob, job_id)
        if (
            job is None
            or job.poll_generation != generation
            or job.state not in POLLED_STATES
            or not job.remote_name
        ):
            return None
        requested = job.cancel_requested_at
        return _Target(
            job.id,
            generation,
            job.remote_name,
            job.state,
            requested is not None and requested < utcnow() - CANCEL_RESEND_AFTER,
            sync.last_metric_step(session, job.id),
        )


def _release(target: _Target) -> None:
    with task_session() as session:
        session.execute(
            update(TuningJob)
            .where(TuningJob.id == target.job_id, TuningJob.poll_generation == target.generation)
            .values(poll_claimed_until=None, last_polled_at=utcnow())
        )


def poll_one(job_id: int, generation: int) -> str:
    """Read one job from Vertex and bring its row up to date; returns what happened."""
    target = _target(job_id, generation)
    if target is None:
        return "skipped"
    try:
        remote = gateway.get_tuning(target.remote_name)
        wants_metrics = bool(remote.experiment) and (
            (remote.completed_steps or 0) > target.metrics_step or remote.has_ended
        )
        metrics = gateway.read_metrics(remote) if wants_metrics else None
        # Our cancel never reached Vertex (lost message, outage): send it again.
        resend_cancel = target.state == JobState.CANCELLING and target.cancel_requested_long_ago
        if resend_cancel and not remote.has_ended and remote.state != "JOB_STATE_CANCELLING":
            gateway.cancel_tuning(target.remote_name)
    except NotFoundGeminiError as error:
        return _vanished(target, error)
    except TransientGeminiError as error:
        logger.warning("poll of job %s failed for now: %s", job_id, error)
        _release(target)
        return "retry"
    except GeminiError as error:
        logger.error("poll of job %s failed: %s", job_id, error)
        _release(target)
        return "error"
    with task_session() as session:
        owned = session.execute(
            update(TuningJob)
            .where(TuningJob.id == target.job_id, TuningJob.poll_generation == target.generation)
            .values(poll_claimed_until=None, last_polled_at=utcnow())
        )
        if rows_affected(owned) != 1:
            return "superseded"
        job = session.get(TuningJob, target.job_id)
        if job is None:
            return "skipped"
        sync.apply(session, job, remote, metrics)
        return job.state


def _vanished(target: _Target, error: GeminiError) -> str:
    """The remote job no longer exists (deleted, or another project): the row cannot follow."""
    from app.tuning.texts import gateway_error

    with task_session() as session:
        job = session.get(TuningJob, target.job_id)
        if job is None or job.poll_generation != target.generation:
            return "superseded"
        job.poll_claimed_until, job.last_polled_at = None, utcnow()
        sync.finish(session, job, JobState.FAILED, error=gateway_error(error))
    return "failed"


def poll_batch(pairs: list[list[int]]) -> dict[str, int]:
    outcomes: dict[str, int] = {}
    for job_id, generation in pairs:
        try:
            outcome = poll_one(int(job_id), int(generation))
        except Exception:  # one broken row must not stop the batch
            logger.exception("poll of job %s crashed", job_id)
            outcome = "crashed"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def request_poll(session: Session, job: TuningJob) -> bool:
    """Poll this job now (the "refresh" button), unless a poll is already on its way."""
    now = utcnow()
    result = session.execute(
        update(TuningJob)
        .where(
            TuningJob.id == job.id,
            TuningJob.state.in_(POLLED_STATES),
            TuningJob.remote_name.is_not(None),
            or_(TuningJob.poll_claimed_until.is_(None), TuningJob.poll_claimed_until < now),
        )
        .values(poll_generation=TuningJob.poll_generation + 1, poll_claimed_until=now + POLL_LEASE)
        .returning(TuningJob.poll_generation)
    ).first()
    if result is None:
        return False
    enqueue_after_commit(
        session, "tuning.poll_jobs", [[job.id, result[0]]], expires=MESSAGE_EXPIRES
    )
    return True
