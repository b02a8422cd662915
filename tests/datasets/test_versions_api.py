"""The versions API: list, check, create (409 on unaccepted overlaps), read, files with their
sha256, CSV, examples — and the test split stays out of training whatever is asked."""

from __future__ import annotations

import csv
import hashlib
import io
import json

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.models import User
from app.auth.service import create_api_token
from app.datasets.models import ExampleStatus
from tests.review.factories import Team, approved_set, pending, team


def _bearer(session: Session, client: TestClient, user: User) -> None:
    _token, plain = create_api_token(session, user=user, name="tests")
    session.commit()
    client.headers["Authorization"] = f"Bearer {plain}"


def _base(t: Team) -> str:
    return f"/api/v1/projects/{t.project.id}/versions"


def _golden(session: Session, t: Team) -> None:
    pending(
        session,
        t,
        question="GOLDEN: may I return opened food?",
        answer="GOLDEN: no.",
        split="test",
        status=ExampleStatus.APPROVED,
    )


def test_create_read_download_and_list(client: TestClient, session: Session) -> None:
    t = team(session)
    approved_set(session, t, 20)
    _golden(session, t)
    _bearer(session, client, t.manager)
    created = client.post(_base(t), json={"dataset_id": t.dataset.id, "note": "api", "seed": 7})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["number"] == 1 and body["counts"] == {
        "train": 18,
        "validation": 2,
        "test": 1,
        "total": 21,
    }
    train = next(f for f in body["files"] if f["split"] == "train")
    download = client.get(train["url"])
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == train["sha256"]
    assert download.headers["x-content-sha256"] == train["sha256"]
    lines = [json.loads(line) for line in download.text.splitlines()]
    assert len(lines) == train["lines"] == 18
    assert all(line["contents"][0]["role"] == "user" for line in lines)
    assert "GOLDEN" not in download.text
    openai = client.get(train["openai_url"])
    assert [m["role"] for m in json.loads(openai.text.splitlines()[0])["messages"]] == [
        "user",
        "assistant",
    ]
    assert (
        "GOLDEN" not in openai.text
        and "GOLDEN"
        not in client.get(next(f for f in body["files"] if f["split"] == "validation")["url"]).text
    )
    exported = client.get(body["csv_url"])
    rows = list(csv.DictReader(io.StringIO(exported.text.removeprefix("\ufeff"))))
    assert len(rows) == 21 and {r["split"] for r in rows} == {"train", "validation", "test"}
    listing = client.get(_base(t))
    assert [v["id"] for v in listing.json()] == [body["id"]]
    page = client.get(f"{_base(t)}/{body['id']}/examples", params={"split": "test"}).json()
    assert page["total"] == 1 and page["examples"][0]["turns"][0]["text"].startswith("GOLDEN")


def test_overlaps_are_refused_until_accepted(client: TestClient, session: Session) -> None:
    t = team(session)
    approved_set(session, t, 10)
    for split in ("train", "test"):
        pending(
            session,
            t,
            question="Same question?",
            answer="Same answer.",
            split=split,
            status=ExampleStatus.APPROVED,
        )
    _bearer(session, client, t.manager)
    checked = client.post(f"{_base(t)}/check", json={"dataset_id": t.dataset.id}).json()
    assert checked["leakage_total"] == 1 and checked["leakage"][0]["kind"] == "exact"
    refused = client.post(_base(t), json={"dataset_id": t.dataset.id})
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "leakage" and error["leakage_total"] == 1
    accepted = client.post(_base(t), json={"dataset_id": t.dataset.id, "acknowledge_leakage": True})
    assert accepted.status_code == 201
    assert accepted.json()["leakage"]["total"] == 1
    assert accepted.json()["leakage"]["acknowledged_by"] == t.manager.id


def test_a_pilot_through_the_api_keeps_the_golden_set_out(
    client: TestClient, session: Session
) -> None:
    t = team(session)
    approved_set(session, t, 40)
    _golden(session, t)
    _bearer(session, client, t.manager)
    body = client.post(_base(t), json={"dataset_id": t.dataset.id, "pilot_size": 10}).json()
    assert body["kind"] == "pilot" and body["counts"]["test"] == 1
    assert body["counts"]["train"] + body["counts"]["validation"] == 10
    for file in body["files"]:
        text = client.get(file["url"]).text
        assert ("GOLDEN" in text) == (file["split"] == "test")


def test_permissions_and_unknown_ids(client: TestClient, session: Session) -> None:
    t = team(session)
    approved_set(session, t, 3)
    _bearer(session, client, t.reviewer)
    assert client.post(_base(t), json={"dataset_id": t.dataset.id}).status_code == 403
    assert client.get(_base(t)).status_code == 200
    assert client.get(f"{_base(t)}/999999").status_code == 404
    _bearer(session, client, t.manager)
    missing = client.post(_base(t), json={"dataset_id": 999999})
    assert missing.status_code == 404
    nothing = team(session)
    _bearer(session, client, nothing.manager)
    empty = client.post(_base(nothing), json={"dataset_id": nothing.dataset.id})
    assert empty.status_code == 409 and "no approved training examples" in empty.text
