"""No stuck launch: when saving the remote job's name fails (a unique-constraint error, as seen in
production), the row does not sit in "Launching"; it ends failed with a message naming the remote
job, and cancelling it reaches that remote job on Vertex."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import new_session
from app.genai import gateway
from app.projects.permissions import Role
from app.tuning import control, launch, service, tasks
from app.tuning.models import JobEvent, JobState, TuningJob
from app.tuning.recommend import Choice
from tests.emulator_fixture import EmulatorServer
from tests.factories import create_project, create_user
from tests.support import login, soup
from tests.tuning.factories import versioned_examples


def _job(session: Session, manager: Any, project: Any) -> int:
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
        own.info.pop("tunedesk.pending_tasks", None)  # this test runs the launch itself
        own.commit()
        return job.id


def fresh(job_id: int) -> TuningJob:
    with new_session() as own:
        found = own.get(TuningJob, job_id)
        assert found is not None
        return found


def test_a_failed_save_ends_clearly_and_cancel_reaches_the_remote_job(
    client: TestClient,
    session: Session,
    emulator: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator.use(monkeypatch)
    emulator.settings(time_scale=1)  # the remote job runs for minutes, as on Vertex
    manager = create_user(session, name="Mana")
    project = create_project(session, members={manager: Role.MANAGER})
    job_id = _job(session, manager, project)
    other_id = _job(session, manager, project)
    real_launch = gateway.launch_tuning

    def launch_then_collide(**kwargs: Any) -> Any:
        remote = real_launch(**kwargs)
        # Another row already holds this remote name: saving it again breaks the unique
        # constraint on tuning_job.remote_name, a real database error at exactly that step.
        with new_session() as own:
            own.execute(
                update(TuningJob).where(TuningJob.id == other_id).values(remote_name=remote.name)
            )
            own.commit()
        return remote

    monkeypatch.setattr(gateway, "launch_tuning", launch_then_collide)
    assert launch.launch(job_id) == "created"

    job = fresh(job_id)
    remote_name = fresh(other_id).remote_name
    assert remote_name and job.unrecorded_remote_name == remote_name
    assert job.state == JobState.FAILED  # not "Launching" for ten minutes
    assert job.launch_claimed_by is None
    login(client, manager)
    page = soup(client.get(f"/projects/{project.id}/tuning/{job_id}"))
    error = page.select_one("#job-error").get_text(" ", strip=True)
    assert remote_name in error and "cancel this job to stop it" in error
    assert page.select_one("#cancel-button") is not None

    cancelled = client.post(f"/projects/{project.id}/tuning/{job_id}/cancel")
    assert cancelled.status_code == 303
    assert fresh(job_id).state == JobState.CANCELLING
    assert tasks.cancel_job(job_id) == "sent"

    [sent] = emulator.requests("tuning.cancel")
    assert sent["path"] == f"/v1beta1/{remote_name}:cancel"
    remote = gateway.get_tuning(remote_name)
    assert remote.state in ("JOB_STATE_CANCELLING", "JOB_STATE_CANCELLED")
    assert fresh(job_id).state == JobState.CANCELLED
    with new_session() as own:
        kinds = list(own.scalars(select(JobEvent.kind).where(JobEvent.job_id == job_id)))
    assert "record_failed" in kinds and "remote_cancel_sent" in kinds


def test_a_cancel_asked_during_the_launch_stops_the_unrecorded_remote_job(
    session: Session, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.use(monkeypatch)
    emulator.settings(time_scale=1)
    manager = create_user(session, name="Mana")
    project = create_project(session, members={manager: Role.MANAGER})
    job_id = _job(session, manager, project)
    other_id = _job(session, manager, project)
    real_launch = gateway.launch_tuning

    def cancel_then_collide(**kwargs: Any) -> Any:
        remote = real_launch(**kwargs)
        with new_session() as own:
            job = own.get(TuningJob, job_id)
            assert job is not None and job.state == JobState.LAUNCHING
            control.cancel(own, actor=manager, job=job, project=own.merge(project))
            own.info.pop("tunedesk.pending_tasks", None)
            own.execute(
                update(TuningJob).where(TuningJob.id == other_id).values(remote_name=remote.name)
            )
            own.commit()
        return remote

    monkeypatch.setattr(gateway, "launch_tuning", cancel_then_collide)
    launch.launch(job_id)
    assert fresh(job_id).state == JobState.CANCELLING
    assert tasks.cancel_job(job_id) == "sent"
    assert fresh(job_id).state == JobState.CANCELLED
    [sent] = emulator.requests("tuning.cancel")
    assert sent["path"] == f"/v1beta1/{fresh(other_id).remote_name}:cancel"
