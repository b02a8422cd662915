"""End to end with a real worker and beat against the emulator: launch → pending → running with
progress → succeeded (curves and diagnosis on the page), a failure with its translated reason,
and a cancellation (cancelling → cancelled). Runs on each database and broker."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import new_session
from app.notifications.models import Notification
from app.projects.models import Project
from app.projects.permissions import Role
from app.tuning.models import JobEvent, JobState, MetricPoint, TuningJob
from tests.emulator_fixture import EmulatorServer
from tests.factories import create_project, create_user
from tests.processes import beat, worker
from tests.support import login, soup, wait_for
from tests.tuning.factories import versioned_examples

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def launch(client: TestClient, project: Project, version_id: int, name: str) -> int:
    response = client.post(
        f"/projects/{project.id}/tuning",
        data={
            "version": version_id,
            "base_model": "gemini-3.5-flash",
            "name": name,
            "epochs": "3",
            "learning_rate_multiplier": "1",
            "adapter_size": "4",
        },
    )
    assert response.status_code == 303, response.text[-2000:]
    return int(response.headers["location"].rsplit("/", 1)[1])


def row(job_id: int) -> TuningJob:
    with new_session() as fresh:
        job = fresh.get(TuningJob, job_id)
        assert job is not None
        return job


def test_launch_run_finish_fail_and_cancel(
    client: TestClient,
    session: Session,
    tuning_env: dict[str, str],
    emulator: EmulatorServer,
    tmp_path: Path,
) -> None:
    manager = create_user(session, name="Mana")
    viewer = create_user(session, name="Vic")
    project = create_project(session, members={manager: Role.MANAGER, viewer: Role.VIEWER})
    version, _examples = versioned_examples(session, project=project, actor=manager)
    login(client, manager)
    emulator.settings(time_scale=10)  # each job runs about 25 seconds
    running = worker(tuning_env, tmp_path).start(ready_text="ready.")
    scheduler = beat(tuning_env, tmp_path).start(ready_text="beat: Starting")
    try:
        good = launch(client, project, version.id, "Good run")
        wait_for(lambda: row(good).remote_name, timeout=60, message="the first remote job")
        emulator.fault("tuning.create", kind="fail_job")
        bad = launch(client, project, version.id, "Doomed run")
        wait_for(lambda: row(bad).remote_name, timeout=60, message="the second remote job")
        stopped = launch(client, project, version.id, "Stopped run")

        seen: list[tuple[str, int | None, int | None]] = []

        def watch() -> bool:
            job = row(good)
            seen.append((job.state, job.completed_steps, job.total_steps))
            return job.state in (JobState.SUCCEEDED, JobState.FAILED)

        wait_for(
            lambda: row(stopped).state == JobState.RUNNING,
            timeout=60,
            message="the third job to run",
        )
        cancelled = client.post(f"/projects/{project.id}/tuning/{stopped}/cancel")
        assert cancelled.status_code == 303
        assert row(stopped).state == JobState.CANCELLING
        wait_for(watch, timeout=120, interval=0.3, message="the first job to end")
        wait_for(
            lambda: row(bad).state == JobState.FAILED, timeout=120, message="the second job to fail"
        )
        wait_for(
            lambda: row(stopped).state == JobState.CANCELLED, timeout=120, message="the cancel"
        )
    finally:
        scheduler.stop()
        running.stop()

    # The good job went pending → running with progress → succeeded.
    states = [state for state, _done, _total in seen]
    assert JobState.SUCCEEDED in states
    progress = [(done, total) for state, done, total in seen if state == JobState.RUNNING and total]
    assert any(0 < (done or 0) < total for done, total in progress), seen
    kinds = session.scalars(
        select(JobEvent.kind).where(JobEvent.job_id == good).order_by(JobEvent.id)
    ).all()
    assert kinds[:5] == ["created", "queued", "launch_started", "uploaded", "remote_created"]
    assert "progress" in kinds and "data_stats" in kinds and kinds[-1] == "succeeded"
    transitions = [
        (e.params["from"], e.params["to"])
        for e in session.scalars(
            select(JobEvent)
            .where(JobEvent.job_id == good, JobEvent.kind == "state_changed")
            .order_by(JobEvent.id)
        )
    ]
    assert transitions[0] == ("launching", "pending")
    assert ("pending", "running") in transitions and transitions[-1][1] == "succeeded"
    assert (
        session.scalars(select(MetricPoint).where(MetricPoint.job_id == good)).first() is not None
    )

    page = soup(client.get(f"/projects/{project.id}/tuning/{good}"))
    live = page.select_one("#job-live")
    assert not live.has_attr("hx-trigger")  # finished: the page stopped polling
    assert page.select_one("#status-card .status-line").get_text(strip=True) == "Succeeded"
    assert (
        page.select_one("progress.job-progress")["value"]
        == page.select_one("progress.job-progress")["max"]
    )
    assert page.select_one("#diagnosis")["data-verdict"] in (
        "healthy",
        "over_fitting",
        "under_trained",
    )
    assert page.select_one("#recommended-checkpoint") is not None
    assert '"train_loss": [[1' in page.select_one("#job-chart-data").get_text()

    failed = soup(client.get(f"/projects/{project.id}/tuning/{bad}"))
    assert (
        "Vertex AI hit an internal error while tuning (at step"
        in failed.select_one("#job-error").get_text()
    )
    assert (
        "Nothing is wrong with your data: launch the job again."
        in failed.select_one("#job-error").get_text()
    )

    stopped_kinds = session.scalars(
        select(JobEvent.kind).where(JobEvent.job_id == stopped).order_by(JobEvent.id)
    ).all()
    assert "cancel_requested" in stopped_kinds and "cancel_sent" in stopped_kinds
    assert stopped_kinds[-1] == "cancelled"
    stopped_transitions = [
        (e.params["from"], e.params["to"])
        for e in session.scalars(
            select(JobEvent)
            .where(JobEvent.job_id == stopped, JobEvent.kind == "state_changed")
            .order_by(JobEvent.id)
        )
    ]
    assert stopped_transitions[-1] == ("cancelling", "cancelled")

    kinds_for_manager = set(
        session.scalars(select(Notification.kind).where(Notification.user_id == manager.id))
    )
    assert {"tuning.succeeded", "tuning.failed", "tuning.cancelled"} <= kinds_for_manager
    assert not session.scalars(
        select(Notification).where(Notification.user_id == viewer.id)
    ).first()
    # One remote job per row, nothing more.
    assert len(emulator.state()["jobs"]) >= 3
    assert emulator.counters().get("tuning.create") == 3
