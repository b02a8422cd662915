"""The TuneDesk worker (or beat) with Celery's result backend switched on, for benches: every
task's end (success, retry, failure) is recorded in the SQLite file given as the first argument,
so a bench can tell afterwards whether a periodic task failed while it ran. Beat must run through
here too: it stamps "ignore the result" on the messages it sends from its own configuration.
Otherwise exactly ``tunedesk run-worker --concurrency 2`` / ``tunedesk run-beat``.

    python bench/_results_worker.py RESULTS.sqlite3 worker|beat
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import get_settings
from app.worker import celery_app

celery_app.conf.update(
    result_backend=f"db+sqlite:///{sys.argv[1]}",
    task_ignore_result=False,
    result_extended=True,  # the task's name is stored with its state
    database_engine_options={"connect_args": {"timeout": 30}},
)
if sys.argv[2] == "beat":
    celery_app.start(argv=["beat", "--loglevel", "INFO"])
else:
    queue = get_settings().task_queue
    celery_app.start(argv=["worker", "--loglevel", "INFO", "--concurrency", "2", "-Q", queue])
