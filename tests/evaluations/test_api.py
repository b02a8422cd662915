"""The evaluations JSON API: list, create (same checks as the form), get with the summary and
verdict, items with outputs and scores, blind ballots and votes, the votes summary; bearer
tokens only, with the same project permissions as the pages."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.service import create_api_token
from app.evaluations import votes
from app.evaluations.models import Evaluation, HumanVote
from app.projects.permissions import Role
from app.tuning.models import JobState
from tests.evaluations.factories import eval_version, finished_evaluation
from tests.factories import project_with_roles
from tests.tuning.factories import job_row


def _bearer(session: Session, user: object) -> dict[str, str]:
    _token, plain = create_api_token(session, user=user, name="ci")  # type: ignore[arg-type]
    session.commit()
    return {"Authorization": f"Bearer {plain}"}


def test_read_evaluations_items_and_vote_through_the_api(
    client: TestClient, session: Session
) -> None:
    project, users = project_with_roles(session)
    built = finished_evaluation(session, project=project, actor=users[Role.MANAGER], count=10)
    viewer, reviewer = _bearer(session, users[Role.VIEWER]), _bearer(session, users[Role.REVIEWER])
    base = f"/api/v1/projects/{project.id}/evaluations"
    assert client.get(base).status_code == 401
    listed = client.get(base, headers=viewer).json()
    assert [e["id"] for e in listed] == [built.evaluation.id]
    one = client.get(f"{base}/{built.evaluation.id}", headers=viewer).json()
    assert one["status"] == "succeeded" and one["status_label"] == "Finished"
    assert [c["role"] for c in one["candidates"]] == ["baseline", "tuned"]
    assert one["summary"]["judge"]["wins"] == 7
    assert one["verdict"].startswith("The tuned model is better on 70% of your 10 test questions")
    items = client.get(f"{base}/{built.evaluation.id}/items?limit=3", headers=viewer).json()
    assert [i["position"] for i in items] == [0, 1, 2]
    assert items[0]["outputs"][1]["scores"]["chrf"] > items[0]["outputs"][0]["scores"]["chrf"]
    assert items[0]["judge_winner"] == "tuned"

    # Viewers cannot vote; reviewers get a blind ballot and vote on it.
    assert client.get(f"{base}/{built.evaluation.id}/ballot", headers=viewer).status_code == 403
    ballot = client.get(f"{base}/{built.evaluation.id}/ballot", headers=reviewer).json()
    assert set(ballot) == {"item_id", "prompt", "reference", "answer_a", "answer_b"}
    item_id = ballot["item_id"]
    tuned_is_a = votes.a_is_tuned(item_id, users[Role.REVIEWER].id)
    choice = "a" if tuned_is_a else "b"  # prefer the tuned answer
    posted = client.post(
        f"{base}/{built.evaluation.id}/votes",
        json={"item_id": item_id, "choice": choice},
        headers=reviewer,
    )
    assert posted.status_code == 200
    stored = session.scalars(select(HumanVote)).one()
    assert stored.a_candidate_id == (built.tuned.id if tuned_is_a else built.baseline.id)
    bad = client.post(
        f"{base}/{built.evaluation.id}/votes",
        json={"item_id": item_id, "choice": "maybe"},
        headers=reviewer,
    )
    assert bad.status_code == 422
    summary = client.get(f"{base}/{built.evaluation.id}/votes/summary", headers=viewer).json()
    assert (summary["votes"], summary["wins"], summary["voters"]) == (1, 1, 1)
    assert summary["tuned_better"]["value"] == 1.0 and summary["tuned_better"]["low"] < 1.0
    assert summary["judge_agreement"] == 1.0


def test_create_through_the_api(client: TestClient, session: Session) -> None:
    project, users = project_with_roles(session)
    version = eval_version(session, project=project, actor=users[Role.MANAGER], count=5)
    job = job_row(
        session,
        project=project,
        version=version,
        state=JobState.SUCCEEDED,
        tuned_endpoint="projects/1/locations/us-central1/endpoints/5",
    )
    base = f"/api/v1/projects/{project.id}/evaluations"
    spec = {
        "name": "API run",
        "test_version_id": version.id,
        "candidates": [
            {"kind": "zero_shot", "base_model": "gemini-3.5-flash"},
            {"kind": "tuned", "tuning_job_id": job.id},
        ],
        "judge_model": "gemini-3.5-flash",
    }
    viewer = _bearer(session, users[Role.VIEWER])
    assert client.post(base, json=spec, headers=viewer).status_code == 403
    expert = _bearer(session, users[Role.EXPERT])
    created = client.post(base, json=spec, headers=expert)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "queued" and body["outputs_total"] == 10
    assert session.get(Evaluation, body["id"]) is not None
    bad = client.post(base, json={**spec, "judge_model": "gpt-4"}, headers=expert)
    assert "judge_model" in bad.json()["error"]["fields"]
    assert bad.status_code == 422
    missing_job = {
        **spec,
        "candidates": [spec["candidates"][0], {"kind": "tuned", "tuning_job_id": 99999}],
    }
    refused = client.post(base, json=missing_job, headers=expert)
    assert refused.status_code == 422 and refused.json()["error"]["message"]
