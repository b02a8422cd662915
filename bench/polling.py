"""One beat cycle of tuning-job polling with 1,000 non-terminal jobs: batches, duplicates, time.

``python bench/polling.py [--jobs 1000] [--latency-ms 0] [--database-url URL] [--concurrency 2]``

Sets up, in a temporary directory: a fresh migrated database (SQLite, or a scratch database on
the PostgreSQL server of --database-url, dropped at the end), the embedded broker, the offline
emulator as its own process (jobs mid-training, so every poll also reads the training curves),
``--jobs`` remote jobs and their rows (RUNNING). Then it measures:
1. one dispatch (what beat runs every 5 s): jobs claimed, poll tasks queued, time taken;
2. a second dispatch right after, and one every 5 s while the worker is busy (what beat does
   next, with a per-job interval longer than the run so that only a job whose poll is still
   queued could be due): how many jobs were claimed again while queued (must be 0);
3. a real Celery worker draining the queue: time until every job was polled once, and the
   emulator's request counters (exactly one ``tuning.get`` per job means no duplicate poll).
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from _scratch_database import add_database_option, scratch_database

WORK = Path(tempfile.mkdtemp(prefix="tunedesk-bench-polling-"))
# The folder (logs, embedded broker, a SQLite database of up to ~100 MB) goes when the run
# ends, however it ends short of being killed.
atexit.register(shutil.rmtree, WORK, ignore_errors=True)
QUEUE = f"bench-polling-{uuid.uuid4().hex[:8]}"


def configure_environment(database_url: str, emulator_port: int) -> dict[str, str]:
    values = {
        "TUNEDESK_VAR_DIR": str(WORK),
        "DATABASE_URL": database_url,
        "TUNEDESK_BROKER_URL": f"sqla+sqlite:///{WORK}/broker.sqlite3",
        "TUNEDESK_TASK_QUEUE": QUEUE,
        "TUNEDESK_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "TUNEDESK_GEMINI_MODE": "emulator",
        "TUNEDESK_EMULATOR_HOST": "127.0.0.1",
        "TUNEDESK_EMULATOR_PORT": str(emulator_port),
        "TUNEDESK_LOG_LEVEL": "WARNING",
    }
    os.environ.update(values)
    return dict(os.environ)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(args: list[str], env: dict[str, str], log: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        env=env,
        stdout=(WORK / log).open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


def emulator_control(port: int, path: str, body: dict[str, Any] | None = None) -> Any:
    import httpx

    url = f"http://127.0.0.1:{port}{path}"
    response = httpx.post(url, json=body) if body is not None else httpx.get(url)
    response.raise_for_status()
    return response.json()


def create_remote_jobs(count: int) -> list[str]:
    """``count`` jobs on the emulator from one small training file (100 examples × 3 epochs)."""
    from app.genai import gateway

    lines = [
        json.dumps(
            {
                "contents": [
                    {"role": "user", "parts": [{"text": f"Where is order {i}?"}]},
                    {"role": "model", "parts": [{"text": f"Order {i} ships in three days."}]},
                ]
            }
        )
        for i in range(100)
    ]
    uploaded = gateway.upload_training_file(
        "\n".join(lines).encode(), object_name="bench/train.jsonl"
    )

    def one(i: int) -> str:
        job = gateway.launch_tuning(
            base_model="gemini-3.5-flash",
            training_uri=uploaded.uri,
            display_name=f"bench {i}",
            epochs=3,
            labels={"tunedesk_job": f"bench{i}"},
        )
        return job.name

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(count)))


def create_rows(names: list[str]) -> None:
    """One project, dataset and version, and a RUNNING row per remote job (never polled)."""
    from app.auth.models import User
    from app.datasets.models import Dataset
    from app.datasets.versions.models import DatasetVersion
    from app.db import new_session, utcnow
    from app.projects.models import Project
    from app.tuning.models import JobState, TuningJob

    with new_session() as session:
        user = User(name="Bench", email="bench@example.com", password_hash="x")
        project = Project(name="Bench")
        session.add_all([user, project])
        session.flush()
        dataset = Dataset(project_id=project.id, name="Bench", column_mapping={})
        session.add(dataset)
        session.flush()
        version = DatasetVersion(
            project_id=project.id, dataset_id=dataset.id, number=1, seed=1, content_hash="x"
        )
        session.add(version)
        session.flush()
        now = utcnow()
        session.add_all(
            TuningJob(
                project_id=project.id,
                dataset_version_id=version.id,
                base_model="gemini-3.5-flash",
                display_name=f"bench {i}",
                state=JobState.RUNNING,
                remote_name=name,
                remote_label=uuid.uuid4().hex,
                cost_estimate={"price_per_million": 5.0},
                queued_at=now,
                updated_at=now,
            )
            for i, name in enumerate(names)
        )
        session.commit()


def dispatch(interval: timedelta | None = None) -> tuple[int, int, float]:
    from app.db import new_session
    from app.tuning import polling

    started = time.perf_counter()
    with new_session() as session:
        result = polling.dispatch(session, now_interval=interval)
        session.commit()  # sends the poll tasks
    return result.claimed, result.batches, (time.perf_counter() - started) * 1000


def polled_count(since: Any) -> int:
    from sqlalchemy import func, select

    from app.db import new_session
    from app.tuning.models import TuningJob

    with new_session() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(TuningJob).where(TuningJob.last_polled_at >= since)
            )
            or 0
        )


def run(options: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    database = options.database_url
    env = configure_environment(database, port)
    emulator = start(
        ["emulator", "--port", str(port), "--time-scale", "10", "--state-dir", str(WORK / "emu")],
        env,
        "emulator.log",
    )
    worker = None
    try:
        wait(lambda: _alive(port), 30, "the emulator")
        emulator_control(port, "/_emulator/settings", {"latency_ms": options.latency_ms})
        from app.migrate import upgrade_head

        upgrade_head(database)
        started = time.perf_counter()
        names = create_remote_jobs(options.jobs)
        create_rows(names)
        setup_seconds = time.perf_counter() - started
        time.sleep(5)  # the emulated jobs reach their training steps (curves to read)
        emulator_control(port, "/_emulator/reset", {})
        from app.db import utcnow

        cycle_start = utcnow()
        claimed, batches, dispatch_ms = dispatch()
        again, _b, again_ms = dispatch()
        worker = start(
            ["run-worker", "--concurrency", str(options.concurrency), "--loglevel", "WARNING"],
            env,
            "worker.log",
        )
        drain_started = time.perf_counter()
        reclaimed = 0
        ticks = 0
        while polled_count(cycle_start) < claimed:
            if time.perf_counter() - drain_started > options.timeout:
                raise SystemExit("the worker did not poll every job in time")
            time.sleep(options.tick)
            ticks += 1
            # What beat sends next. With an interval longer than the run, a job can only be
            # due again if it was never polled, i.e. its poll is still queued: any claim now
            # would be a duplicate poll task.
            reclaimed += dispatch(timedelta(hours=1))[0]
        drain_seconds = time.perf_counter() - drain_started
        counters = emulator_control(port, "/_emulator/counters")
        return {
            "jobs": options.jobs,
            "emulator_latency_ms": options.latency_ms,
            "worker_concurrency": options.concurrency,
            "setup_seconds": round(setup_seconds, 1),
            "dispatch_claimed": claimed,
            "dispatch_batches": batches,
            "batch_size_max": 25,
            "dispatch_ms": round(dispatch_ms, 1),
            "second_dispatch_claimed": again,
            "second_dispatch_ms": round(again_ms, 1),
            "beat_ticks_while_draining": ticks,
            "reclaimed_while_queued": reclaimed,
            "seconds_to_poll_all": round(drain_seconds, 1),
            "polls_per_second": round(claimed / drain_seconds, 1),
            "emulator_requests": {k: v for k, v in counters.items() if v},
        }
    finally:
        for process in (worker, emulator):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()


def _alive(port: int) -> bool:
    try:
        emulator_control(port, "/_emulator/health")
    except Exception:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every emulator request")
    add_database_option(parser)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--tick", type=float, default=5.0, help="seconds between dispatches (beat)")
    parser.add_argument("--timeout", type=float, default=900)
    options = parser.parse_args()
    with scratch_database(options.database_url or None, WORK) as options.database_url:
        report = run(options)
    print(json.dumps(report, indent=2))
    if report["second_dispatch_claimed"] or report["reclaimed_while_queued"]:
        raise SystemExit("duplicate poll claims")
    gets = report["emulator_requests"].get("tuning.get", 0)
    if gets != report["dispatch_claimed"]:
        raise SystemExit(f"{gets} tuning.get requests for {report['dispatch_claimed']} jobs")


if __name__ == "__main__":
    main()
