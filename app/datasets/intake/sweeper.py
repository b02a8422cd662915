"""The intake sweeper (beat, every minute): work whose task was lost is sent again.

* a queued upload no worker picked up (the broker was down when it was confirmed);
* an upload whose worker died while importing (no sign of life for ``STALE_INGESTION``): it is
  queued again, up to ``MAX_ATTEMPTS`` times, then failed with a message — never half-imported,
  since nothing is written before the final commit;
* a dataset-wide check that is pending, or whose worker died holding the lock;
* files uploaded but never confirmed, after ``ABANDONED_AFTER``.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.datasets.checking import check_status
from app.datasets.intake import inspection, storage
from app.datasets.intake.uploads import INGEST_TASK
from app.datasets.models import CheckStatus, Dataset, Upload, UploadStatus
from app.db import rows_affected, task_session, utcnow
from app.worker import enqueue_after_commit, send_task

UNCLAIMED_AFTER = timedelta(minutes=2)
STALE_INGESTION = timedelta(minutes=5)
MAX_ATTEMPTS = 3
ABANDONED_AFTER = timedelta(days=7)
BATCH = 100


def _requeue_unclaimed() -> int:
    with task_session() as session:
        ids = list(
            session.scalars(
                select(Upload.id)
                .where(
                    Upload.status == UploadStatus.QUEUED,
                    Upload.queued_at < utcnow() - UNCLAIMED_AFTER,
                )
                .limit(BATCH)
            )
        )
    for upload_id in ids:
        send_task(INGEST_TASK, [upload_id])
    return len(ids)


def _recover_stale() -> int:
    recovered = 0
    with task_session() as session:
        stale = list(
            session.scalars(
                select(Upload)
                .where(
                    Upload.status == UploadStatus.INGESTING,
                    Upload.heartbeat_at < utcnow() - STALE_INGESTION,
                )
                .limit(BATCH)
            )
        )
        for upload in stale:
            again = upload.attempts < MAX_ATTEMPTS
            values = (
                {"status": UploadStatus.QUEUED, "queued_at": utcnow(), "phase": None}
                if again
                else {
                    "status": UploadStatus.FAILED,
                    "finished_at": utcnow(),
                    "phase": None,
                    "error": {
                        "code": "ingestion_interrupted",
                        "params": {"count": upload.attempts},
                    },
                    "inspection": inspection.stripped(upload.inspection or {}),
                }
            )
            result = session.execute(
                update(Upload)
                .where(Upload.id == upload.id, Upload.status == UploadStatus.INGESTING)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if not rows_affected(result):
                continue
            recovered += 1
            if again:
                enqueue_after_commit(session, INGEST_TASK, upload.id)
            else:
                storage.delete_after_commit(session, upload.stored_path)
    return recovered


def _resend_checks() -> int:
    now = utcnow()
    with task_session() as session:
        session.execute(
            update(Dataset)
            .where(
                Dataset.check_status == CheckStatus.RUNNING,
                Dataset.check_started_at < now - check_status.STALE_LOCK,
            )
            .values(check_status=CheckStatus.PENDING, check_started_at=None)
            .execution_options(synchronize_session=False)
        )
        pending = list(
            session.scalars(
                select(Dataset.id).where(Dataset.check_status == CheckStatus.PENDING).limit(BATCH)
            )
        )
    for dataset_id in pending:
        send_task(check_status.RECHECK_TASK, [dataset_id])
    return len(pending)


def _drop_abandoned() -> int:
    with task_session() as session:
        abandoned = list(
            session.scalars(
                select(Upload)
                .where(
                    Upload.status == UploadStatus.RECEIVED,
                    Upload.created_at < utcnow() - ABANDONED_AFTER,
                )
                .limit(BATCH)
            )
        )
        for upload in abandoned:
            upload.status = UploadStatus.DISCARDED
            upload.inspection = inspection.stripped(upload.inspection or {})
            storage.delete_after_commit(session, upload.stored_path)
    return len(abandoned)


def sweep() -> dict[str, int]:
    return {
        "requeued": _requeue_unclaimed(),
        "recovered": _recover_stale(),
        "rechecks": _resend_checks(),
        "abandoned": _drop_abandoned(),
    }
