"""A tuning job's run log: one append-only event per thing that happened to it, stored as a kind
and parameters and put into words when shown (:func:`app.tuning.texts.event_text`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.auth.models import User
from app.tuning.models import JobEvent, TuningJob


def add_event(
    session: Session,
    job: TuningJob,
    kind: str,
    params: dict[str, Any] | None = None,
    *,
    actor: User | None = None,
    message: str = "",
) -> JobEvent:
    event = JobEvent(
        job_id=job.id,
        kind=kind,
        params=params or {},
        actor_id=actor.id if actor else None,
        message=message[:4000],
    )
    session.add(event)
    return event
