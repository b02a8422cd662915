"""The tuning JSON API: plan, create (the page's pre-flight), get, list, cancel, events, metrics."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.service import create_api_token
from app.projects.models import Project
from app.projects.permissions import Role
from app.tuning import launch
from app.tuning.models import JobState, MetricPoint, TuningJob
from tests.emulator_fixture import EmulatorServer
from tests.factories import create_project, create_user
from tests.tuning.factories import versioned_examples


@pytest.fixture
def api(
    client: TestClient, session: Session, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> tuple[TestClient, Project, int, str]:
    emulator.use(monkeypatch)
    manager = create_user(session)
    reviewer = create_user(session)
    project = create_project(session, members={manager: Role.MANAGER, reviewer: Role.REVIEWER})
    version, _examples = versioned_examples(session, project=project, actor=manager)
    _token, plain = create_api_token(session, user=manager, name="ci")
    _token, reviewer_plain = create_api_token(session, user=reviewer, name="ci")
    session.commit()
    client.headers["Authorization"] = f"Bearer {plain}"
    return client, project, version.id, reviewer_plain


def test_plan_then_create_with_the_recommendation_then_follow_and_cancel(
    api: tuple[TestClient, Project, int, str], session: Session, emulator: EmulatorServer
) -> None:
    client, project, version_id, _reviewer = api
    base = f"/api/v1/projects/{project.id}/tuning"
    planned = client.get(f"{base}/plan", params={"version_id": version_id}).json()
    assert planned["ready"] is True and planned["base_model"] == "gemini-3.5-flash"
    assert planned["recommendation"]["epochs"] == 5
    assert {item["code"]: item["status"] for item in planned["checklist"]}["price"] == "warning"
    assert planned["estimate"]["price_source"] == "unverified"

    created = client.post(
        f"{base}/jobs", json={"version_id": version_id, "learning_rate_multiplier": None}
    )
    assert created.status_code == 201, created.text
    job = created.json()
    # Omitted → recommended; null → Vertex chooses.
    assert job["hyperparameters"] == {
        "epochs": 5,
        "learning_rate_multiplier": None,
        "adapter_size": 4,
    }
    assert job["state"] == "queued" and job["state_label"] == "Queued"
    assert job["recommendation"]["learning_rate_multiplier"] == 2.0

    assert launch.launch(job["id"]) == "created"
    emulator.advance(200)
    fetched = client.get(f"{base}/jobs/{job['id']}").json()
    assert fetched["remote_name"].startswith("projects/")
    assert [j["id"] for j in client.get(f"{base}/jobs").json()] == [job["id"]]

    cancelled = client.post(f"{base}/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == JobState.CANCELLING
    again = client.post(f"{base}/jobs/{job['id']}/cancel")
    assert again.status_code == 409
    events = client.get(f"{base}/jobs/{job['id']}/events").json()
    assert [e["kind"] for e in events][:2] == ["created", "queued"]
    assert events[-1]["kind"] == "cancel_requested"
    assert events[4]["text"].startswith("Created the tuning job on Vertex AI (projects/")


def test_not_ready_is_refused_with_the_reasons(
    api: tuple[TestClient, Project, int, str], session: Session
) -> None:
    client, project, version_id, _reviewer = api
    refused = client.post(
        f"/api/v1/projects/{project.id}/tuning/jobs",
        json={"version_id": version_id, "base_model": "gemini-2.0-flash-lite-001"},
    )
    assert refused.status_code == 422
    assert "was retired on" in refused.json()["error"]["fields"]["__all__"]
    missing = client.post(f"/api/v1/projects/{project.id}/tuning/jobs", json={"version_id": 999999})
    assert missing.status_code == 404
    assert session.query(TuningJob).count() == 0


def test_metrics_carry_the_curves_and_the_diagnosis(
    api: tuple[TestClient, Project, int, str], session: Session
) -> None:
    client, project, version_id, reviewer_token = api
    job = TuningJob(
        project_id=project.id,
        dataset_version_id=version_id,
        base_model="gemini-3.5-flash",
        display_name="Done",
        state=JobState.SUCCEEDED,
        hyperparameters={"epochs": 3},
        checkpoints=[{"checkpoint_id": "3", "epoch": 3, "step": 10}],
    )
    session.add(job)
    session.flush()
    for step in range(1, 11):
        session.add(MetricPoint(job_id=job.id, metric="train_loss", step=step, value=14.0 / step))
    session.commit()
    body = client.get(f"/api/v1/projects/{project.id}/tuning/jobs/{job.id}/metrics").json()
    assert body["series"]["train_loss"][0] == [1, 14.0]
    assert body["diagnosis"]["verdict"] == "data_problem"
    assert body["diagnosis"]["text"].startswith(
        "Probably a data problem: the first training loss was 14.000"
    )
    # Reviewers may read, not launch.
    client.headers["Authorization"] = f"Bearer {reviewer_token}"
    assert client.get(f"/api/v1/projects/{project.id}/tuning/jobs/{job.id}").status_code == 200
    assert (
        client.post(
            f"/api/v1/projects/{project.id}/tuning/jobs", json={"version_id": version_id}
        ).status_code
        == 403
    )


def test_the_model_catalog(api: tuple[TestClient, Project, int, str]) -> None:
    client, *_rest = api
    models = {m["id"]: m for m in client.get("/api/v1/tuning/models").json()}
    assert models["gemini-2.5-pro"]["adapter_sizes"] == [1, 2, 4, 8]
    assert models["gemini-2.0-flash-lite-001"]["retirement_date"] == "2026-02-25"
    assert all(m["price_source"] == "unverified" for m in models.values())
