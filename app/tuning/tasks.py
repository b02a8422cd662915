"""Tuning tasks: thin shells around ``launch``, ``polling`` and the cancel call.

``launch_job`` and ``poll_jobs`` are idempotent (claims with compare-and-set), so they are
acknowledged late: a message whose worker died comes back and is simply tried again.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task

from app.db import task_session
from app.genai import gateway
from app.genai.errors import GeminiError, TransientGeminiError
from app.tuning import launch, polling, sync
from app.tuning.models import JobState, TuningJob
from app.tuning.run_log import add_event
from app.tuning.texts import gateway_error
from app.worker import celery_app

logger = logging.getLogger("tunedesk.tuning")


@celery_app.task(
    name="tuning.launch_job",
    bind=True,
    acks_late=True,
    max_retries=None,
    soft_time_limit=600,
    time_limit=660,
)
def launch_job(self: Task[Any, Any], job_id: int) -> str:
    try:
        return launch.launch(job_id)
    except launch.LaunchDeferred as deferred:
        raise self.retry(countdown=deferred.countdown) from deferred


@celery_app.task(name="tuning.poll_jobs", acks_late=True, soft_time_limit=240, time_limit=270)
def poll_jobs(pairs: list[list[int]]) -> dict[str, int]:
    return polling.poll_batch(pairs)


@celery_app.task(name="tuning.dispatch_polls", soft_time_limit=30)
def dispatch_polls() -> int:
    with task_session() as session:
        return polling.dispatch(session).claimed


@celery_app.task(name="tuning.sweep_launches", soft_time_limit=60)
def sweep_launches() -> int:
    with task_session() as session:
        return len(launch.sweep(session))


@celery_app.task(
    name="tuning.cancel_job", bind=True, acks_late=True, max_retries=5, soft_time_limit=120
)
def cancel_job(self: Task[Any, Any], job_id: int) -> str:
    with task_session() as session:
        job = session.get(TuningJob, job_id)
        name = (job.remote_name or job.unrecorded_remote_name) if job is not None else None
        if job is None or job.state != JobState.CANCELLING or not name:
            return "skipped"
        unrecorded = not job.remote_name
    try:
        gateway.cancel_tuning(name)
    except TransientGeminiError as error:
        raise self.retry(countdown=30) from error
    except GeminiError as error:
        # Typically "already ended": the next poll records how it ended.
        logger.info("cancel of job %s refused: %s", job_id, error)
        if unrecorded:
            _end_unrecorded(job_id, name, error)
        return error.kind
    with task_session() as session:
        job = session.get(TuningJob, job_id)
        if job is not None and unrecorded:
            # Nothing polls a job whose name was never recorded: it ends here.
            add_event(session, job, "remote_cancel_sent", {"name": name})
            job.error = None
            sync.finish(session, job, JobState.CANCELLED)
        elif job is not None:
            add_event(session, job, "cancel_sent")
    return "sent"


def _end_unrecorded(job_id: int, name: str, error: GeminiError) -> None:
    """Vertex refused to cancel an unrecorded job (it already ended): back to failed."""
    with task_session() as session:
        job = session.get(TuningJob, job_id)
        if job is not None and job.state == JobState.CANCELLING:
            job.state = JobState.FAILED
            add_event(session, job, "launch_failed", {"error": gateway_error(error)})
