"""Periodic housekeeping that belongs to no single domain."""

from __future__ import annotations

from app.db import task_session
from app.system import record_heartbeat
from app.worker import celery_app


@celery_app.task(name="core.record_heartbeat", soft_time_limit=30)
def heartbeat() -> None:
    with task_session() as session:
        record_heartbeat(session, "worker")
