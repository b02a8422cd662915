"""Evaluation tasks: thin shells around ``runner``.

``run`` is idempotent (the claim is a compare-and-set; done outputs are never asked again), so
it is acknowledged late: a message whose worker died comes back and simply continues the run.
Its time limit is long because a big run (thousands of answers, a slow model) takes hours; when
the soft limit hits, the runner puts the run back in the queue and the next message continues.
"""

from __future__ import annotations

from app.db import task_session
from app.evaluations.running import runner
from app.worker import celery_app

SOFT_TIME_LIMIT = 4 * 3600


@celery_app.task(
    name="evaluations.run",
    acks_late=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=SOFT_TIME_LIMIT + 300,
)
def run(evaluation_id: int) -> str:
    return runner.run_evaluation(evaluation_id)


@celery_app.task(name="evaluations.sweep_runs", soft_time_limit=60)
def sweep_runs() -> int:
    with task_session() as session:
        return len(runner.sweep(session))
