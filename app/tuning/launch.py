"""Launching a tuning job on Vertex AI, exactly once per row — it costs money.

The launch runs in short units of work, never holding a transaction open across a network call:
1. claim the row (QUEUED → LAUNCHING, compare-and-set on the state and the previous claimant);
2. look the remote job up by the row's unique label: after a crash or a duplicate delivery it
   may already exist, and is then adopted instead of created again;
3. upload the version's train/validation files (same object names each time: a retry replaces
   them) and create the remote job, labelled with the row's label;
4. store the remote job's name in its own commit right away.
A worker killed between 3 and 4 leaves the row LAUNCHING with a claim that is either held by a
process that no longer exists on this host (taken over at once) or expires after
``LAUNCH_LEASE``; the beat sweeper then re-sends the task and step 2 finds the job.

Test hook: with ``TUNEDESK_TEST_CRASH_POINT=after_remote_create`` (ignored in production) the
worker SIGKILLs itself right after Vertex answered the create and before step 4 — exactly the
crash the idempotency test needs, at exactly that point.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.config import get_settings
from app.datasets.versions import service as versions_service
from app.datasets.versions.models import DatasetVersion
from app.db import rows_affected, task_session, utcnow
from app.errors import NotFound
from app.genai import gateway
from app.genai.errors import GeminiError, TransientGeminiError
from app.genai.types import RemoteTuningJob
from app.i18n import N_
from app.tuning import sync
from app.tuning.models import JobState, TuningJob
from app.tuning.run_log import add_event
from app.tuning.service import CANCEL_TASK
from app.tuning.texts import gateway_error
from app.worker import enqueue_after_commit

logger = logging.getLogger("tunedesk.tuning")

LAUNCH_LEASE = timedelta(minutes=10)  # longer than any launch can take (uploads + create)
MAX_LAUNCH_ATTEMPTS = 6
RESEND_AFTER = timedelta(seconds=30)
CRASH_POINT_ENV = "TUNEDESK_TEST_CRASH_POINT"
LABEL_KEY = "tunedesk_job"
NOT_RECORDED = N_(
    "Vertex AI created the tuning job %(name)s, but TuneDesk could not record it (a database "
    "error). It keeps running and costs money until it ends: cancel this job to stop it, then "
    "launch again."
)
MISSING_FILE = N_(
    "The training file of this dataset version is missing on the server. Create the version "
    "again, then launch a new job."
)


class LaunchDeferred(Exception):
    """Vertex could not be reached; the task should try again in ``countdown`` seconds."""

    def __init__(self, countdown: int) -> None:
        super().__init__(f"launch deferred by {countdown}s")
        self.countdown = countdown


@dataclass(frozen=True)
class Claim:
    job_id: int
    claimant: str
    attempt: int
    label: str
    project_id: int
    version_id: int
    base_model: str
    display_name: str
    hyperparameters: dict[str, Any]
    pre_tuned_model: str | None = None
    parent_checkpoint_id: str | None = None


def claimant() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claimant_gone(claimed_by: str | None) -> bool:
    """True when the claim was made by a process of this host that no longer exists."""
    if not claimed_by:
        return True
    host, _sep, pid = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists but is not ours to signal
    return False


def labels_for(job_id: int, project_id: int, label: str) -> dict[str, str]:
    return {LABEL_KEY: label, "tunedesk_row": str(job_id), "tunedesk_project": str(project_id)}


def _claimable(job: TuningJob, now: datetime) -> Any:
    """The compare-and-set that claims this row, or None when it is not this worker's to take."""
    statement = update(TuningJob).where(TuningJob.id == job.id)
    if job.state == JobState.QUEUED:
        return statement.where(TuningJob.state == JobState.QUEUED)
    if job.state != JobState.LAUNCHING:
        return None  # launched, cancelled or waiting for approval: nothing to do
    expired = job.launch_claimed_until is None or job.launch_claimed_until < now
    if not expired and not claimant_gone(job.launch_claimed_by):
        return None  # another worker is launching it right now
    previous = TuningJob.launch_claimed_by
    same_holder = (
        previous.is_(None) if job.launch_claimed_by is None else previous == job.launch_claimed_by
    )
    return statement.where(TuningJob.state == JobState.LAUNCHING, same_holder)


def _claim(session: Session, job_id: int) -> Claim | None:
    job = session.get(TuningJob, job_id)
    now = utcnow()
    statement = _claimable(job, now) if job is not None else None
    if job is None or statement is None:
        return None
    me = claimant()
    result = session.execute(
        statement.values(
            state=JobState.LAUNCHING,
            launch_claimed_by=me,
            launch_claimed_until=now + LAUNCH_LEASE,
            launch_attempts=TuningJob.launch_attempts + 1,
            updated_at=now,
        )
    )
    if rows_affected(result) != 1:
        return None
    session.refresh(job)
    add_event(session, job, "launch_started", {"attempt": job.launch_attempts})
    return Claim(
        job.id,
        me,
        job.launch_attempts,
        job.remote_label or "",
        job.project_id,
        job.dataset_version_id,
        job.base_model,
        job.display_name,
        dict(job.hyperparameters),
        job.pre_tuned_model,
        job.parent_checkpoint_id,
    )


def _find(claim: Claim) -> RemoteTuningJob | None:
    """The remote job carrying this row's label, if one was created before (oldest first)."""
    found = gateway.list_tunings(labels={LABEL_KEY: claim.label})
    if len(found) > 1:
        logger.error("job %s: %d remote jobs carry its label", claim.job_id, len(found))
    return (
        min(found, key=lambda job: (job.created_at is None, job.created_at, job.name))
        if found
        else None
    )


def _upload(claim: Claim) -> dict[str, str]:
    with task_session() as session:
        version = session.get(DatasetVersion, claim.version_id)
        if version is None:
            raise NotFound(MISSING_FILE)
        paths = versions_service.training_files(version)
        examples = int((version.counts or {}).get("train", 0)) + int(
            (version.counts or {}).get("validation", 0)
        )
    uris: dict[str, str] = {}
    for split, path in paths.items():
        if not path.exists():
            raise NotFound(MISSING_FILE)
        uploaded = gateway.upload_training_file(
            path, object_name=f"jobs/{claim.label}/{split}.jsonl"
        )
        uris[split] = uploaded.uri
    with task_session() as session:
        job = session.get(TuningJob, claim.job_id)
        if job is not None:
            job.training_uri, job.validation_uri = uris.get("train"), uris.get("validation")
            add_event(session, job, "uploaded", {"examples": examples})
    return uris


def _create(claim: Claim, uris: dict[str, str]) -> RemoteTuningJob:
    hyper = claim.hyperparameters
    return gateway.launch_tuning(
        base_model=claim.base_model,
        training_uri=uris["train"],
        validation_uri=uris.get("validation"),
        display_name=claim.display_name,
        epochs=hyper.get("epochs"),
        learning_rate_multiplier=hyper.get("learning_rate_multiplier"),
        adapter_size=hyper.get("adapter_size"),
        labels=labels_for(claim.job_id, claim.project_id, claim.label),
        description=f"TuneDesk tuning job {claim.job_id}",
        pre_tuned_model=claim.pre_tuned_model,
        checkpoint_id=claim.parent_checkpoint_id,
    )


def _crash_point(name: str) -> None:
    if os.environ.get(CRASH_POINT_ENV) == name and not get_settings().is_production:
        logger.warning("test crash point %s reached: killing this worker", name)
        os.kill(os.getpid(), signal.SIGKILL)


def _record_remote(claim: Claim, remote: RemoteTuningJob, *, adopted: bool) -> None:
    """Store the remote job's name in its own commit (the step that must never be lost); a
    database error here ends in ``_record_failed``, never in a silent "Launching"."""
    try:
        _save_remote(claim, remote, adopted=adopted)
    except SQLAlchemyError as error:
        logger.exception("job %s: could not record remote job %s", claim.job_id, remote.name)
        _record_failed(claim, remote, error)


def _record_failed(claim: Claim, remote: RemoteTuningJob, error: SQLAlchemyError) -> None:
    """The remote job exists but its name could not be saved (seen: a unique-constraint error).
    The row ends FAILED with a message naming the remote job, which is kept in
    ``unrecorded_remote_name`` so that cancelling the row stops it (``control.cancel``)."""
    with task_session() as session:
        job = session.get(TuningJob, claim.job_id)
        if job is None or job.launch_claimed_by != claim.claimant:
            return
        job.launch_claimed_by, job.launch_claimed_until = None, None
        job.unrecorded_remote_name = remote.name
        add_event(
            session,
            job,
            "record_failed",
            {"name": remote.name},
            message=f"{type(error).__name__}: {error}"[:4000],
        )
        if job.cancel_requested_at is not None:
            # Cancelled while launching: stop the remote job now (the cancel task ends the row).
            job.state, job.updated_at = JobState.CANCELLING, utcnow()
            enqueue_after_commit(session, CANCEL_TASK, job.id)
            return
        problem = {
            "source": "tuning",
            "code": "not_recorded",
            "message": NOT_RECORDED,
            "params": {"name": remote.name},
        }
        sync.finish(session, job, JobState.FAILED, error=problem)


def _save_remote(claim: Claim, remote: RemoteTuningJob, *, adopted: bool) -> None:
    with task_session() as session:
        result = session.execute(
            update(TuningJob)
            .where(
                TuningJob.id == claim.job_id,
                TuningJob.state == JobState.LAUNCHING,
                TuningJob.launch_claimed_by == claim.claimant,
            )
            .values(
                remote_name=remote.name,
                remote_state=remote.state,
                state=JobState.PENDING,
                launch_claimed_by=None,
                launch_claimed_until=None,
                updated_at=utcnow(),
            )
        )
        job = session.get(TuningJob, claim.job_id)
        if rows_affected(result) != 1 or job is None:
            _lost_claim(session, claim, remote, job)
            return
        session.refresh(job)
        add_event(
            session, job, "remote_adopted" if adopted else "remote_created", {"name": remote.name}
        )
        add_event(
            session, job, "state_changed", {"from": JobState.LAUNCHING, "to": JobState.PENDING}
        )
        if job.cancel_requested_at is not None:
            job.state = JobState.CANCELLING
            add_event(
                session, job, "state_changed", {"from": JobState.PENDING, "to": JobState.CANCELLING}
            )
            enqueue_after_commit(session, CANCEL_TASK, job.id)


def _lost_claim(
    session: Session, claim: Claim, remote: RemoteTuningJob, job: TuningJob | None
) -> None:
    """Another worker took the row over while this one was creating: keep one remote job."""
    if job is not None and job.remote_name in (None, remote.name):
        return  # the other worker adopted this very job (found by label)
    logger.error("job %s: claim lost after creating %s; cancelling it", claim.job_id, remote.name)
    try:
        gateway.cancel_tuning(remote.name)
    except GeminiError:
        logger.exception("could not cancel the surplus remote job %s", remote.name)


def _release(claim: Claim, error: GeminiError, *, final: bool, retry_in: int | None = None) -> None:
    with task_session() as session:
        job = session.get(TuningJob, claim.job_id)
        if (
            job is None
            or job.state != JobState.LAUNCHING
            or job.launch_claimed_by != claim.claimant
        ):
            return
        job.launch_claimed_by, job.launch_claimed_until, job.updated_at = None, None, utcnow()
        if retry_in is not None:
            # A queued row's launch_claimed_until is its earliest retry: the sweeper waits too.
            job.launch_claimed_until = utcnow() + timedelta(seconds=retry_in)
        if final:
            sync.finish(session, job, JobState.FAILED, error=gateway_error(error))
            add_event(
                session, job, "launch_failed", {"error": gateway_error(error)}, message=error.raw
            )
        else:
            job.state = JobState.QUEUED
            add_event(
                session, job, "launch_retry", {"error": gateway_error(error)}, message=error.raw
            )


def _fail_missing_file(claim: Claim) -> None:
    with task_session() as session:
        job = session.get(TuningJob, claim.job_id)
        if job is not None and job.state == JobState.LAUNCHING:
            job.launch_claimed_by, job.launch_claimed_until = None, None
            error = {"source": "tuning", "code": "missing_file", "message": MISSING_FILE}
            sync.finish(session, job, JobState.FAILED, error=error)
            add_event(session, job, "launch_failed", {"error": error})


def launch(job_id: int) -> str:
    """Run one launch attempt for the row; returns what happened (for logs and tests)."""
    with task_session() as session:
        claim = _claim(session, job_id)
    if claim is None:
        return "not_claimed"
    try:
        remote = _find(claim)
        adopted = remote is not None
        if remote is None:
            remote = _create(claim, _upload(claim))
            _crash_point("after_remote_create")
        _record_remote(claim, remote, adopted=adopted)
        return "adopted" if adopted else "created"
    except TransientGeminiError as error:
        return _after_transient(claim, error)
    except NotFound:
        _fail_missing_file(claim)
        return "failed"
    except GeminiError as error:
        _release(claim, error, final=True)
        return "failed"


def _after_transient(claim: Claim, error: TransientGeminiError) -> str:
    if error.maybe_created:
        try:
            remote = _find(claim)
        except GeminiError:
            remote = None
        if remote is not None:
            _record_remote(claim, remote, adopted=True)
            return "adopted"
    final = claim.attempt >= MAX_LAUNCH_ATTEMPTS
    countdown = min(300, 15 * 2 ** (claim.attempt - 1))
    _release(claim, error, final=final, retry_in=None if final else countdown)
    if final:
        return "failed"
    raise LaunchDeferred(countdown)


def sweep(session: Session) -> list[int]:
    """Rows whose launch message was lost (broker restart, worker killed): send them again.

    A row is re-sent at most every ``RESEND_AFTER`` (the sweep touches ``updated_at``), so a
    backlog behind busy workers never fills the queue with copies; the claim makes any copy that
    still arrives a no-op.
    """
    now = utcnow()
    stale = list(
        session.scalars(
            select(TuningJob)
            .where(
                TuningJob.state.in_((JobState.QUEUED, JobState.LAUNCHING)),
                TuningJob.updated_at < now - RESEND_AFTER,
            )
            .order_by(TuningJob.id)
            .limit(200)
        )
    )
    resent = []
    for job in stale:
        waiting = job.launch_claimed_until is not None and job.launch_claimed_until > now
        if job.state == JobState.QUEUED and waiting:
            continue  # backing off after a failure; its retry is scheduled
        if job.state == JobState.LAUNCHING and waiting and not claimant_gone(job.launch_claimed_by):
            continue  # a live worker is launching it
        job.updated_at = now
        resent.append(job.id)
        enqueue_after_commit(session, "tuning.launch_job", job.id)
    return resent
