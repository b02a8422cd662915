"""Launching costs money: exactly one remote job per row, whatever happens to the workers.

- The worker is SIGKILLed right after Vertex created the job and before TuneDesk stored its
  name (the test-only crash point ``TUNEDESK_TEST_CRASH_POINT=after_remote_create`` makes the
  worker kill itself at exactly that line). Another worker comes up: the beat sweeper re-sends
  the launch, the new worker takes the dead worker's claim over, finds the job by its label and
  adopts it. One remote job exists and the row follows it to the end.
- The launch task delivered twice, to two workers at once: one claims the row, the other does
  nothing.
- The broker lost the launch message: the sweeper sends it again.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import new_session, utcnow
from app.projects.permissions import Role
from app.tuning import service
from app.tuning.launch import CRASH_POINT_ENV, LABEL_KEY
from app.tuning.models import JobEvent, JobState, TuningJob
from app.tuning.recommend import Choice
from app.worker import celery_app, send_task
from tests.emulator_fixture import EmulatorServer
from tests.factories import create_project, create_user
from tests.processes import ManagedProcess, beat, worker
from tests.support import wait_for
from tests.tuning.factories import versioned_examples

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def create_job(session: Session, *, enqueue: bool = True) -> TuningJob:
    manager = create_user(session)
    project = create_project(session, members={manager: Role.MANAGER})
    version, _examples = versioned_examples(session, project=project, actor=manager)
    with new_session() as own:
        job = service.create_job(
            own,
            actor=manager,
            project=project,
            version_id=version.id,
            model_id="gemini-3.5-flash",
            choice=Choice(3, 1.0, 4),
        )
        if not enqueue:
            own.info.pop("tunedesk.pending_tasks", None)  # as if the broker lost the message
        own.commit()
        return job


def fresh(job_id: int) -> TuningJob:
    with new_session() as own:
        found = own.get(TuningJob, job_id)
        assert found is not None
        return found


def remote_jobs(emulator: EmulatorServer, job: TuningJob) -> list[str]:
    """Every job the emulator holds with this row's label (its own view, not the gateway's)."""
    return [
        remote["name"]
        for remote in emulator.state()["jobs"]
        if remote["labels"].get(LABEL_KEY) == job.remote_label
    ]


def events(job_id: int) -> list[str]:
    with new_session() as own:
        return list(
            own.scalars(
                select(JobEvent.kind).where(JobEvent.job_id == job_id).order_by(JobEvent.id)
            )
        )


def test_a_worker_killed_between_create_and_commit_loses_nothing(
    session: Session, tuning_env: dict[str, str], emulator: EmulatorServer, tmp_path: Path
) -> None:
    emulator.settings(time_scale=50)
    job = create_job(session)
    doomed = worker({**tuning_env, CRASH_POINT_ENV: "after_remote_create"}, tmp_path, "doomed")
    doomed.start(ready_text="ready.")
    assert doomed.process is not None
    wait_for(lambda: doomed.process.poll() is not None, timeout=60, message="the worker to die")  # type: ignore[union-attr]
    assert doomed.process.returncode == -9  # SIGKILL
    assert "test crash point after_remote_create reached" in doomed.output()

    # Vertex has the job; TuneDesk's row does not know its name.
    crashed = fresh(job.id)
    assert crashed.state == JobState.LAUNCHING and crashed.remote_name is None
    assert len(remote_jobs(emulator, crashed)) == 1
    assert emulator.counters().get("tuning.create") == 1

    survivor = worker(tuning_env, tmp_path, "survivor").start(ready_text="ready.")
    scheduler = beat(tuning_env, tmp_path).start(ready_text="beat: Starting")
    try:
        wait_for(lambda: fresh(job.id).remote_name, timeout=90, message="the row to adopt the job")
        wait_for(
            lambda: fresh(job.id).state == JobState.SUCCEEDED, timeout=90, message="the job to end"
        )
    finally:
        scheduler.stop()
        survivor.stop()
    final = fresh(job.id)
    names = remote_jobs(emulator, final)
    assert names == [final.remote_name]
    assert emulator.counters().get("tuning.create") == 1
    kinds = events(job.id)
    assert (
        kinds.count("launch_started") == 2
        and "remote_adopted" in kinds
        and "remote_created" not in kinds
    )


def test_the_launch_task_delivered_twice_creates_one_remote_job(
    session: Session, tuning_env: dict[str, str], emulator: EmulatorServer, tmp_path: Path
) -> None:
    emulator.settings(latency_ms=300)  # a slow Vertex: both deliveries overlap
    first = worker(tuning_env, tmp_path, "first").start(ready_text="ready.")
    second = worker(tuning_env, tmp_path, "second").start(ready_text="ready.")
    try:
        job = create_job(session, enqueue=False)
        send_task("tuning.launch_job", [job.id])
        send_task("tuning.launch_job", [job.id])
        wait_for(lambda: fresh(job.id).remote_name, timeout=60, message="the remote job")
        both: list[ManagedProcess] = [first, second]
        wait_for(
            lambda: (
                sum(
                    w.output().count("tuning.launch_job") and w.output().count("succeeded in")
                    for w in both
                )
                >= 2
            ),
            timeout=30,
            message="both deliveries to be handled",
        )
        outcomes = "".join(w.output() for w in both)
        assert "'created'" in outcomes and "'not_claimed'" in outcomes
        send_task("tuning.launch_job", [job.id])  # a third, late delivery
        wait_for(
            lambda: "".join(w.output() for w in both).count("'not_claimed'") >= 2,
            timeout=30,
            message="the late copy",
        )
    finally:
        second.stop()
        first.stop()
    assert remote_jobs(emulator, fresh(job.id)) == [fresh(job.id).remote_name]
    assert emulator.counters().get("tuning.create") == 1
    assert events(job.id).count("launch_started") == 1


def test_a_lost_launch_message_is_sent_again_by_the_sweeper(
    session: Session, tuning_env: dict[str, str], emulator: EmulatorServer, tmp_path: Path
) -> None:
    job = create_job(session, enqueue=False)
    with new_session() as own:  # the message was lost a while ago
        own.execute(
            update(TuningJob)
            .where(TuningJob.id == job.id)
            .values(updated_at=utcnow() - timedelta(minutes=5))
        )
        own.commit()
    celery_app.control.purge()
    running = worker(tuning_env, tmp_path).start(ready_text="ready.")
    scheduler = beat(tuning_env, tmp_path).start(ready_text="beat: Starting")
    try:
        wait_for(
            lambda: fresh(job.id).remote_name,
            timeout=90,
            message="the sweeper to re-send the launch",
        )
    finally:
        scheduler.stop()
        running.stop()
    assert emulator.counters().get("tuning.create") == 1
