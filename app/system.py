"""Process health: heartbeats written by the worker and the readiness checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, get_engine, utcnow
from app.worker import celery_app

# Beat sends the heartbeat every 10 s; a minute and a half without one means something is down.
HEARTBEAT_STALE_AFTER = timedelta(seconds=90)


class Heartbeat(Base):
    __tablename__ = "heartbeat"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime]


def record_heartbeat(session: Session, name: str) -> None:
    row = session.get(Heartbeat, name)
    if row is None:
        session.add(Heartbeat(name=name, at=utcnow()))
    else:
        row.at = utcnow()


def last_heartbeat(session: Session, name: str) -> datetime | None:
    row = session.get(Heartbeat, name)
    return row.at if row else None


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


def check_database() -> Check:
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # readiness reports any failure, it never raises
        return Check("database", False, type(error).__name__)
    return Check("database", True)


def check_broker() -> Check:
    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
    except Exception as error:
        return Check("broker", False, type(error).__name__)
    return Check("broker", True)


def worker_status(session: Session) -> tuple[datetime | None, bool]:
    """When the worker last proved beat → broker → worker works, and whether that is recent."""
    at = last_heartbeat(session, "worker")
    return at, bool(at and utcnow() - at < HEARTBEAT_STALE_AFTER)
