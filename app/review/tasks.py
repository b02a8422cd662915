"""Review tasks: thin shells around the services (the database row is the truth)."""

from __future__ import annotations

from app.review import bulk_run
from app.worker import celery_app


# Long: a run over 100,000 examples takes minutes; a stopping worker pauses it (see the module).
@celery_app.task(name="review.run_bulk_approval", soft_time_limit=3600, time_limit=3700)
def run_bulk_approval(run_id: int) -> str:
    return bulk_run.run_bulk_approval(run_id)


@celery_app.task(name="review.sweep_bulk_runs", soft_time_limit=60)
def sweep_bulk_runs() -> dict[str, int]:
    return bulk_run.sweep()
