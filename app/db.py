"""Database engine, sessions and the unit of work.

One engine per process, created lazily from settings so that forked Celery workers and tests can
point it elsewhere (``configure``). Requests and tasks each get one session; only the boundary
(``get_session`` for requests, ``task_session`` for tasks) commits. Services call ``flush()``
when they need ids and never ``commit()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, cast

from fastapi import Depends
from sqlalchemy import CursorResult, DateTime, Engine, MetaData, Result, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.types import TypeDecorator

from app.config import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use app.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class CreatedAtMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


_engine: Engine | None = None


def _build_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web process read while the worker writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def get_engine() -> Engine:
    global _engine
    if _engine is None:
        settings = get_settings()
        if not settings.database_url:
            settings.ensure_var_dir()
        _engine = _build_engine(settings.sqlalchemy_url)
    return _engine


def configure(url: str | None = None) -> Engine:
    """Drop the current engine (after a fork, or to point at another database) and build anew."""
    global _engine
    if _engine is not None:
        _engine.dispose(close=False)
    _engine = _build_engine(url) if url else None
    return get_engine()


def new_session() -> Session:
    return Session(get_engine(), expire_on_commit=False)


def get_session() -> Iterator[Session]:
    """The request's unit of work: commit after the handler, roll back if it raised."""
    session = new_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def discard_changes(session: Session) -> None:
    """A service refused the request's action (``ValidationFailed``, ``Conflict``…) and the handler
    shows that refusal (the form again with its messages, a toast and a redirect, a JSON error):
    what the action wrote so far is thrown away now, so the page is built from the database as it
    was, and the request's unit of work commits nothing of the refused action. Every handler that
    catches a refusal calls this first (``tests/test_unit_of_work.py`` checks it)."""
    session.rollback()


# scope="function": the commit runs before the response is sent, so a failed commit can never
# follow a fragment that already said "saved".
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


@contextmanager
def task_session() -> Iterator[Session]:
    """A task's unit of work (same rules as a request)."""
    session = new_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def rows_affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed: 0 means a compare-and-set lost the race."""
    return int(cast(CursorResult[Any], result).rowcount)
