"""Polling claims: oldest-polled first, bounded, never two polls of one job at once; a poll that
outlived its claim is dropped; a remote job that vanished fails the row with a message."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.datasets.versions.models import DatasetVersion
from app.db import new_session, utcnow
from app.projects.models import Project
from app.projects.permissions import Role
from app.tuning import polling
from app.tuning.models import JobState, TuningJob
from tests.emulator_fixture import EmulatorServer
from tests.factories import create_project, create_user
from tests.support import login, soup
from tests.tuning.factories import job_row, versioned_examples


@pytest.fixture
def project_version(session: Session) -> tuple[Project, DatasetVersion]:
    manager = create_user(session)
    project = create_project(session, members={manager: Role.MANAGER})
    version, _examples = versioned_examples(session, project=project, actor=manager, count=20)
    return project, version


def claim(interval: timedelta = timedelta(seconds=30)) -> list[int]:
    with new_session() as own:
        polling.dispatch(own, now_interval=interval)
        claimed = own.info.get("tunedesk.pending_tasks", [])
        own.commit()
    return [job_id for _name, (pairs,), _options in claimed for job_id, _generation in pairs]


def test_oldest_polled_first_bounded_and_never_twice(
    session: Session,
    project_version: tuple[Project, DatasetVersion],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project, version = project_version
    now = utcnow()
    ages = {
        "never": None,
        "old": now - timedelta(minutes=10),
        "recent": now - timedelta(minutes=2),
        "fresh": now,
    }
    jobs = {
        name: job_row(
            session,
            project=project,
            version=version,
            state=JobState.RUNNING,
            last_polled_at=polled,
            remote_name=f"projects/1/locations/us-central1/tuningJobs/{name}",
        )
        for name, polled in ages.items()
    }
    job_row(session, project=project, version=version, state=JobState.SUCCEEDED)  # never polled
    job_row(session, project=project, version=version, state=JobState.QUEUED)  # no remote job yet
    monkeypatch.setattr(polling, "MAX_PER_CYCLE", 2)
    monkeypatch.setattr(polling, "POLL_BATCH", 1)
    assert claim() == [jobs["never"].id, jobs["old"].id]  # bounded, oldest first
    assert claim() == [jobs["recent"].id]  # "fresh" is not due yet
    assert claim() == []  # everything due is already claimed: no duplicate poll task
    with new_session() as own:
        own.execute(update(TuningJob).values(poll_claimed_until=utcnow() - timedelta(seconds=1)))
        own.commit()
    assert claim() == [jobs["never"].id, jobs["old"].id]  # a lost poll is claimed again


def test_a_poll_that_outlived_its_claim_does_nothing(
    session: Session, project_version: tuple[Project, DatasetVersion]
) -> None:
    project, version = project_version
    job = job_row(
        session,
        project=project,
        version=version,
        state=JobState.RUNNING,
        remote_name="projects/1/locations/us-central1/tuningJobs/1",
    )
    claim()
    stale_generation = session.get(TuningJob, job.id, populate_existing=True).poll_generation  # type: ignore[union-attr]
    with new_session() as own:
        own.execute(update(TuningJob).values(poll_claimed_until=utcnow() - timedelta(seconds=1)))
        own.commit()
    claim()
    assert polling.poll_one(job.id, stale_generation) == "skipped"


def test_a_vanished_remote_job_fails_the_row_with_a_message(
    client: TestClient,
    session: Session,
    emulator: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    project_version: tuple[Project, DatasetVersion],
) -> None:
    emulator.use(monkeypatch)
    project, version = project_version
    job = job_row(
        session,
        project=project,
        version=version,
        state=JobState.RUNNING,
        remote_name="projects/1/locations/us-central1/tuningJobs/424242",
    )
    claim()
    generation = session.get(TuningJob, job.id, populate_existing=True).poll_generation  # type: ignore[union-attr]
    assert polling.poll_one(job.id, generation) == "failed"
    failed = session.get(TuningJob, job.id, populate_existing=True)
    assert failed is not None and failed.state == JobState.FAILED
    manager = create_user(session, is_admin=True)
    login(client, manager)
    page = soup(client.get(f"/projects/{project.id}/tuning/{job.id}"))
    assert "was not found in Google Cloud project" in page.select_one("#job-error").get_text()
