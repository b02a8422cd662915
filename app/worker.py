"""The Celery application, its defaults, and the beat schedule (every periodic task lives here).

Tasks are thin shells: they take ids, open ``task_session()``, call one service function and
return. The database row is the source of truth, so there is no result backend.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from celery import Celery
from celery.signals import setup_logging, worker_process_init, worker_shutting_down
from kombu import pools as kombu_pools
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app import shutdown
from app.config import get_settings

logger = logging.getLogger(__name__)

# Every module that defines tasks; the worker imports them at start-up.
TASK_MODULES = [
    "app.core_tasks",
    "app.notifications.tasks",
    "app.datasets.tasks",
    "app.tuning.tasks",
    "app.evaluations.tasks",
]


def _periodic(task: str, every_seconds: float, **options: Any) -> dict[str, Any]:
    # A periodic message expires after 1.5 intervals: if workers fall behind, stale copies are
    # dropped instead of piling up behind the fresh one.
    return {
        "task": task,
        "schedule": every_seconds,
        "options": {"expires": every_seconds * 1.5, **options},
    }


# One line per periodic task: cadence and reason.
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Proves broker, beat and worker all run (every 10 s); the admin System page shows its age.
    "core.record_heartbeat": _periodic("core.record_heartbeat", 10),
    # Re-send notifications whose after-commit send was lost (broker down at that moment).
    "notifications.redeliver_stuck": _periodic("notifications.redeliver_stuck", 120),
    # Re-send lost imports and dataset rechecks; requeue imports whose worker died.
    "datasets.sweep_intake": _periodic("datasets.sweep_intake", 60),
    # Claim due tuning jobs (oldest-polled first, bounded) and send their polls in batches.
    "tuning.dispatch_polls": _periodic("tuning.dispatch_polls", 5),
    # Re-send launches whose message was lost or whose worker died mid-launch.
    "tuning.sweep_launches": _periodic("tuning.sweep_launches", 15),
    # Re-send evaluation runs whose message was lost or whose worker died (claim expired).
    "evaluations.sweep_runs": _periodic("evaluations.sweep_runs", 30),
}


def _broker_options(broker_url: str) -> dict[str, Any]:
    if broker_url.startswith("sqla+sqlite"):
        # Passed straight to create_engine by kombu: wait for SQLite locks instead of failing.
        return {"connect_args": {"timeout": 30}}
    if broker_url.startswith("redis"):
        # An unacknowledged message (worker killed) comes back after this many seconds.
        return {"visibility_timeout": 3600}
    return {}


def _make_celery() -> Celery:
    settings = get_settings()
    if settings.uses_embedded_broker:
        settings.ensure_var_dir()
    app = Celery("tunedesk", include=TASK_MODULES)
    app.conf.update(
        broker_url=settings.celery_broker_url,
        broker_transport_options=_broker_options(settings.celery_broker_url),
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        task_default_queue=settings.task_queue,
        task_soft_time_limit=300,
        task_time_limit=360,
        # Tasks that set acks_late are idempotent; if the worker dies their message returns.
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        beat_schedule=BEAT_SCHEDULE,
        beat_schedule_filename=str(settings.var_dir / "celerybeat-schedule"),
        timezone="UTC",
    )
    return app


celery_app = _make_celery()


def configure_broker(broker_url: str, queue: str | None = None) -> None:
    """Point this process's producer at another broker (tests switch between SQLite and Redis)."""
    celery_app.conf.update(
        broker_url=broker_url, broker_transport_options=_broker_options(broker_url)
    )
    if queue:
        celery_app.conf.update(task_default_queue=queue)
    # Forget the cached connection and producer pools (kombu keeps a process-wide registry,
    # Celery a reference, as after a fork); the next send connects to the new broker.
    kombu_pools.reset()
    celery_app._after_fork()  # type: ignore[attr-defined]  # Celery's own pool reset


def send_task(name: str, args: Sequence[Any] = (), **options: Any) -> bool:
    """Send one task now. Callers inside a transaction use ``enqueue_after_commit`` instead.

    A broker outage must not turn a committed request into an error page: the row that needs
    the work already has a status, and a beat sweeper re-sends work that never started.
    """
    try:
        celery_app.send_task(
            name, args=list(args), queue=celery_app.conf.task_default_queue, **options
        )
    except Exception:
        logger.exception("could not send task %s; the sweeper will send it again", name)
        return False
    return True


# --- Enqueue after commit ------------------------------------------------------------------------
# Tasks are buffered on the session and sent only once the transaction that created their rows
# has committed; a rollback drops them. A worker can therefore never see an id that does not
# exist yet, and work is never done for something that was rolled back.

_PENDING_KEY = "tunedesk.pending_tasks"


def enqueue_after_commit(session: Session, task_name: str, /, *args: Any, **options: Any) -> None:
    session.info.setdefault(_PENDING_KEY, []).append((task_name, args, options))


@event.listens_for(Session, "after_commit")
def _send_pending_tasks(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint committed; the real commit is still ahead
    pending = session.info.pop(_PENDING_KEY, [])
    for task_name, args, options in pending:
        send_task(task_name, args, **options)


@event.listens_for(Session, "after_transaction_end")
def _drop_pending_tasks(session: Session, transaction: SessionTransaction) -> None:
    # Fires after after_commit on success (the buffer is empty by then) and on rollback or close,
    # where the buffer must go. Savepoints (transactions with a parent) keep it.
    if transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)


@worker_process_init.connect
def _fresh_engine_per_child(**_kwargs: Any) -> None:
    # A forked child must not share the parent's database connections.
    from app import db

    db.configure(get_settings().sqlalchemy_url)


@worker_shutting_down.connect
def _ask_long_tasks_to_pause(**_kwargs: Any) -> None:
    # Sent in the main process on a warm or cold shutdown; see app.shutdown.
    shutdown.request()


@setup_logging.connect
def _configure_logging(**_kwargs: Any) -> None:
    from app.logs import configure_logging

    configure_logging()
