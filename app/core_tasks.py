"""Periodic housekeeping that belongs to no single domain."""

from __future__ import annotations

from app.db import maintain_statistics, task_session
from app.system import record_heartbeat
from app.worker import celery_app


@celery_app.task(name="core.record_heartbeat", soft_time_limit=30)
def heartbeat() -> None:
    with task_session() as session:
        record_heartbeat(session, "worker")


@celery_app.task(name="core.maintain_database", soft_time_limit=120)
def maintain_database() -> None:
    with task_session() as session:
        maintain_statistics(session)
