"""Notification tasks: thin shells around ``delivery`` (one e-mail) and the sweeper."""

from __future__ import annotations

from typing import Any

from celery import Task

from app.db import task_session
from app.notifications import delivery, service
from app.worker import celery_app


@celery_app.task(
    name="notifications.deliver_email",
    bind=True,
    acks_late=True,
    max_retries=4,
    soft_time_limit=60,
)
def deliver_email(self: Task[Any, Any], notification_id: int) -> str:
    outcome = delivery.deliver_email(notification_id)
    if outcome == "retry":
        raise self.retry(countdown=30 * 2**self.request.retries)
    return outcome


@celery_app.task(name="notifications.redeliver_stuck", soft_time_limit=60)
def redeliver_stuck() -> int:
    with task_session() as session:
        return service.redeliver_stuck(session)
