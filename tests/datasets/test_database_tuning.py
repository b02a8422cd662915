"""The database configured for a web app with background workers: SQLite waits for locks,
keeps planner statistics after imports, the approval gate's lookup by question uses its index
whatever the statistics, and periodic tasks retry when the database is unavailable."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

import app.all_models  # noqa: F401
from app import db
from app.datasets.intake.samples import SAMPLES_DIR
from app.review.decisions import same_question_query
from app.worker import BEAT_SCHEDULE, celery_app, make_periodic_tasks_retry
from tests.datasets.conftest import Team
from tests.datasets.factories import import_file


def _sqlite(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL keeps its own statistics and waits for row locks")


def test_sqlite_connections_wait_for_locks_and_write_ahead(db: Engine) -> None:
    _sqlite(db)
    with db.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_an_import_leaves_planner_statistics(db: Engine, session: Session, team: Team) -> None:
    _sqlite(db)
    with db.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS sqlite_stat1")
    data = Path(SAMPLES_DIR / "support_faq_ja.csv").read_bytes()
    import_file(session, dataset=team.dataset, user=team.expert, name="faq.csv", data=data)
    with db.connect() as connection:
        indexes = {
            row[0]
            for row in connection.exec_driver_sql(
                "SELECT idx FROM sqlite_stat1 WHERE tbl = 'example'"
            )
        }
    assert {"ix_example_prompt_hash", "ix_example_dataset_status"} <= indexes


def test_the_question_lookup_uses_its_index_without_statistics(db: Engine) -> None:
    _sqlite(db)
    with db.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS sqlite_stat1")
    compiled = same_question_query(1, ["a" * 32, "b" * 32]).compile(
        dialect=db.dialect, compile_kwargs={"literal_binds": True}
    )
    with db.connect() as connection:
        plan = " ".join(
            str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        )
    assert "ix_example_prompt_hash" in plan


def test_periodic_tasks_retry_when_the_database_is_unavailable() -> None:
    import app.core_tasks  # the worker imports every task module at start
    import app.datasets.tasks
    import app.review.tasks  # noqa: F401

    make_periodic_tasks_retry()
    for entry in BEAT_SCHEDULE.values():
        task = celery_app.tasks.get(entry["task"])
        if task is not None:
            assert hasattr(task, "_orig_run"), entry["task"]
    attempts = []
    engine = db.configure("postgresql+psycopg://nobody@127.0.0.1:1/unreachable")
    event.listen(engine, "do_connect", lambda *args: attempts.append(1))
    try:
        result = celery_app.tasks["core.record_heartbeat"].apply()
    finally:
        db.configure(None)
    # Tried again several times (eagerly here; with a backoff in a worker), then failed loudly.
    assert len(attempts) >= 3
    assert result.state == "FAILURE"
