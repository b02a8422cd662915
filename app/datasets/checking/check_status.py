"""The state of a dataset's dataset-wide check (duplicates, near duplicates, conflicts).

Checking an example on its own is cheap and happens at once on every edit. Relations between
examples need every example of the dataset, so after a change they are recomputed in the
background: ``request`` counts a new generation and sends the ``datasets.recheck_dataset`` task
once the change commits. The dataset row is also the lock that keeps one worker at a time doing
dataset-wide work (a recheck, or the check phase of an ingestion): ``acquire`` is a
compare-and-set from any state but ``running``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, or_, update
from sqlalchemy.orm import Session

from app.datasets.models import CheckStatus, Dataset
from app.db import rows_affected, utcnow
from app.worker import enqueue_after_commit

RECHECK_TASK = "datasets.recheck_dataset"
# A lock older than this belongs to a worker that died; the next one may take it over.
STALE_LOCK = timedelta(minutes=15)


def request(session: Session, *, dataset_id: int) -> None:
    """Something changed: the dataset-wide check must run again (after this commit)."""
    session.execute(
        update(Dataset)
        .where(Dataset.id == dataset_id)
        .values(
            check_requested=Dataset.check_requested + 1,
            check_status=case(
                (Dataset.check_status == CheckStatus.RUNNING, CheckStatus.RUNNING),
                else_=CheckStatus.PENDING,
            ),
        )
        .execution_options(synchronize_session="fetch")  # the page shows the new state
    )
    enqueue_after_commit(session, RECHECK_TASK, dataset_id)


def acquire(session: Session, *, dataset_id: int, now: datetime | None = None) -> int | None:
    """Take the dataset's lock; returns the generation the check will cover, or None when
    another worker holds it. The caller commits at once (the lock must be visible)."""
    now = now or utcnow()
    claimed = session.execute(
        update(Dataset)
        .where(
            Dataset.id == dataset_id,
            or_(
                Dataset.check_status != CheckStatus.RUNNING,
                Dataset.check_started_at.is_(None),
                Dataset.check_started_at < now - STALE_LOCK,
            ),
        )
        .values(check_status=CheckStatus.RUNNING, check_started_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_affected(claimed) != 1:
        return None
    dataset = session.get(Dataset, dataset_id, populate_existing=True)
    return dataset.check_requested if dataset else None


def release(session: Session, *, dataset_id: int, generation: int) -> bool:
    """The check covering ``generation`` is written. Returns True when more changes came in
    meanwhile (the dataset stays pending and another recheck is sent)."""
    dataset = session.get(Dataset, dataset_id, populate_existing=True)
    if dataset is None:
        return False
    dataset.check_done = max(dataset.check_done, generation)
    dataset.checked_at = utcnow()
    dataset.check_started_at = None
    behind = dataset.check_requested > dataset.check_done
    dataset.check_status = CheckStatus.PENDING if behind else CheckStatus.CURRENT
    if behind:
        enqueue_after_commit(session, RECHECK_TASK, dataset_id)
    return behind


def is_checking(dataset: Dataset) -> bool:
    """Whether the relations shown may still change (a recheck is waiting or running)."""
    return dataset.check_status != CheckStatus.CURRENT


def abandon(session: Session, *, dataset_id: int) -> None:
    """Give the lock back after a failed run; the sweeper sends the pending check again later
    (never at once: a check that fails for a reason of its own would loop)."""
    session.execute(
        update(Dataset)
        .where(Dataset.id == dataset_id, Dataset.check_status == CheckStatus.RUNNING)
        .values(check_status=CheckStatus.PENDING, check_started_at=None)
        .execution_options(synchronize_session=False)
    )
