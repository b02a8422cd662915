"""Dataset intake tasks: thin shells around the services (the database row is the truth)."""

from __future__ import annotations

from app.datasets.checking import recheck
from app.datasets.intake import ingest, sweeper
from app.worker import celery_app


@celery_app.task(name="datasets.ingest_upload", soft_time_limit=1800, time_limit=1900)
def ingest_upload(upload_id: int) -> str:
    return ingest.ingest_upload(upload_id)


@celery_app.task(name="datasets.recheck_dataset", soft_time_limit=1800, time_limit=1900)
def recheck_dataset(dataset_id: int) -> str:
    return recheck.recheck_dataset(dataset_id)


@celery_app.task(name="datasets.sweep_intake", soft_time_limit=120)
def sweep_intake() -> dict[str, int]:
    return sweeper.sweep()
