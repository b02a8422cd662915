"""Test harness: real databases (SQLite always, PostgreSQL when TEST_DATABASE_URL is set), real
brokers, a fresh state per test.

Every test that uses ``db`` (directly or through ``client``) runs once per database backend.
Missing services skip with a visible reason, or fail when TUNEDESK_STRICT=1 (CI).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Settings are read at import time by app modules: fix the environment first.
_RUN_ID = uuid.uuid4().hex[:8]
_TMP = tempfile.mkdtemp(prefix=f"tunedesk-test-{_RUN_ID}-")
for _name in ("DATABASE_URL", "REDIS_URL", "TUNEDESK_DATABASE_URL", "TUNEDESK_REDIS_URL"):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "TUNEDESK_VAR_DIR": _TMP,
        "TUNEDESK_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "TUNEDESK_TASK_QUEUE": f"tunedesk-test-{_RUN_ID}",
        "TUNEDESK_BROKER_URL": f"sqla+sqlite:///{_TMP}/broker.sqlite3",
        "TUNEDESK_LOG_LEVEL": "WARNING",
    }
)

import pytest  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine, create_engine, delete, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app import db as app_db  # noqa: E402
from app.all_models import Base  # noqa: E402
from app.main import create_app  # noqa: E402
from app.migrate import upgrade_head  # noqa: E402
from app.wiring import wire  # noqa: E402
from tests.support import require  # noqa: E402

# Services called directly by tests need what the app factory and the worker wire at start-up.
wire()

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


def _create_postgres_database(base_url: str) -> tuple[str, str]:
    """A database of our own on the test server, so parallel runs never meet."""
    name = f"tunedesk_test_{_RUN_ID}_{os.getpid()}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return str(make_url(base_url).set(database=name).render_as_string(hide_password=False)), name


def _drop_postgres_database(base_url: str, name: str) -> None:
    app_db.configure(None)
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database per backend, shared by the session (rows are cleaned per test)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite')}/tunedesk.sqlite3"
        upgrade_head(url)
        yield url
    else:
        require(
            bool(TEST_DATABASE_URL),
            "PostgreSQL tests need TEST_DATABASE_URL "
            "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)",
        )
        try:
            url, name = _create_postgres_database(TEST_DATABASE_URL)
        except Exception as error:  # server down, wrong credentials…
            require(False, f"PostgreSQL at TEST_DATABASE_URL is not usable: {error}")
        upgrade_head(url)
        yield url
        _drop_postgres_database(TEST_DATABASE_URL, name)


def _clean(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    """The app's engine pointed at this backend; every row is deleted after the test."""
    engine = app_db._engine
    if engine is None or engine.url.render_as_string(hide_password=False) != database_url:
        engine = app_db.configure(database_url)
    _clean(engine)
    yield engine
    _clean(engine)


@pytest.fixture
def session(db: Engine) -> Iterator[Session]:
    """A session for arranging and asserting; factories commit so the app sees their rows."""
    with app_db.new_session() as s:
        yield s


@pytest.fixture(scope="session")
def web_app() -> FastAPI:
    return create_app()


@pytest.fixture
def client(web_app: FastAPI, db: Engine) -> Iterator[TestClient]:
    with TestClient(web_app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture(params=[False, True], ids=["without-htmx", "with-htmx"])
def htmx(request: pytest.FixtureRequest) -> bool:
    """Page tests run twice: as a plain request and as an HTMX navigation."""
    return bool(request.param)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser journeys share one test process (``make test`` runs the suite in parallel
    processes with ``--dist loadgroup``): two Chromiums plus their servers and workers at once
    would slow every page past the assertions' timeouts on a small machine."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per skip reason (with a count) instead of one per test location."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        message = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = message.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        terminalreporter.section("skipped tests, by reason")
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{count:5d} skipped: {reason}")


# --- Brokers and background processes ------------------------------------------------------------

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")


@pytest.fixture(scope="session", params=["embedded", "redis"])
def broker_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The serverless SQLite broker of `make run`, and real Redis (TEST_REDIS_URL)."""
    if request.param == "embedded":
        return f"sqla+sqlite:///{tmp_path_factory.mktemp('broker')}/broker.sqlite3"
    require(
        bool(TEST_REDIS_URL), "Redis tests need TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15)"
    )
    import redis

    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as error:
        require(False, f"Redis at TEST_REDIS_URL is not reachable: {error}")
    return TEST_REDIS_URL


@contextmanager
def shared_process_env(database_url: str, broker_url: str) -> Iterator[dict[str, str]]:
    """Environment for TuneDesk processes (web, worker, beat) sharing this test's database, its
    files (the var directory, as web and worker share a volume in production) and a fresh queue;
    this process's producer is pointed at the same broker and queue meanwhile."""
    from app.worker import celery_app, configure_broker

    queue = f"tunedesk-test-{uuid.uuid4().hex[:10]}"
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "TUNEDESK_BROKER_URL": broker_url,
            "TUNEDESK_TASK_QUEUE": queue,
            "TUNEDESK_VAR_DIR": _TMP,
            "TUNEDESK_LOG_LEVEL": "INFO",
        }
    )
    previous = (celery_app.conf.broker_url, celery_app.conf.task_default_queue)
    configure_broker(broker_url, queue)
    try:
        yield env
    finally:
        configure_broker(*previous)


@pytest.fixture
def process_env(database_url: str, broker_url: str) -> Iterator[dict[str, str]]:
    """Process environment on each broker (worker tests run on SQLite-broker and Redis)."""
    with shared_process_env(database_url, broker_url) as env:
        yield env


@pytest.fixture
def embedded_process_env(database_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Process environment on the embedded broker only, as `make run` has it."""
    with shared_process_env(database_url, f"sqla+sqlite:///{tmp_path}/broker.sqlite3") as env:
        yield env
