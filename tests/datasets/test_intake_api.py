"""The JSON API of datasets: upload a file, follow the import, read the report — the findings
in the shape ``tunedesk check --format json`` prints, for one file and for the whole dataset."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.service import create_api_token
from app.config import PROJECT_ROOT
from app.datasets.intake import ingest
from app.datasets.intake.samples import SAMPLES_DIR
from tests.datasets.conftest import Team

FAQ = Path(SAMPLES_DIR / "support_faq_ja.csv")


def _bearer(session: Session, team: Team, user: object | None = None) -> dict[str, str]:
    _token, plain = create_api_token(session, user=user or team.expert, name="ci")  # type: ignore[arg-type]
    session.commit()
    return {"Authorization": f"Bearer {plain}"}


def _cli(path: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "app", "check", str(path), "--format", "json"],
        capture_output=True,
        check=True,
        cwd=PROJECT_ROOT,
    )
    document: dict[str, object] = json.loads(done.stdout)
    return document


def test_upload_follow_and_read_the_report(
    client: TestClient, session: Session, team: Team
) -> None:
    headers = _bearer(session, team)
    base = f"/api/v1/projects/{team.project.id}/datasets"
    created = client.post(base, json={"name": "FAQ via API"}, headers=headers)
    assert created.status_code == 201
    dataset_id = created.json()["id"]
    sent = client.post(
        f"{base}/{dataset_id}/uploads",
        files={"file": ("support_faq_ja.csv", FAQ.read_bytes(), "text/csv")},
        headers=headers,
    )
    assert sent.status_code == 202, sent.text
    upload = sent.json()
    assert (upload["status"], upload["format"], upload["encoding"]) == (
        "queued",
        "csv",
        "utf-8-sig",
    )
    assert upload["mapping"]["input"] == "お客様の質問"
    ingest.ingest_upload(upload["id"])
    status = client.get(f"{base}/{dataset_id}/uploads/{upload['id']}", headers=headers).json()
    assert status["status"] == "ready" and status["progress"] == 1.0

    mine = client.get(f"{base}/{dataset_id}/uploads/{upload['id']}/report", headers=headers).json()
    cli = _cli(FAQ)
    # The same shape and the same findings as the offline check of the same file.
    assert set(mine) == set(cli) == {"format", "encoding", "rows", "usable", "findings", "stats"}
    assert (mine["format"], mine["encoding"], mine["rows"], mine["usable"]) == (
        cli["format"],
        cli["encoding"],
        cli["rows"],
        cli["usable"],
    )
    assert mine["findings"] == cli["findings"]

    whole = client.get(f"{base}/{dataset_id}/report?lang=ja", headers=headers).json()
    assert (whole["rows"], whole["usable"]) == (187, 186)
    duplicate = next(f for f in whole["findings"] if f["code"] == "exact_duplicate")
    assert duplicate["file"] == "support_faq_ja.csv" and duplicate["related"] == ["行 68"]
    assert duplicate["message"].startswith("この例は行 68 と同じ内容です")
    assert whole["stats"]["pii"] == {"email": 1, "phone": 1, "credit_card": 0, "my_number": 0}


def test_columns_can_be_named_and_a_wrong_one_is_refused(
    client: TestClient, session: Session, team: Team
) -> None:
    headers = _bearer(session, team)
    url = f"/api/v1/projects/{team.project.id}/datasets/{team.dataset.id}/uploads"
    data = b"a,b,c\n1,Where is it?,On its way.\n"
    ok = client.post(
        url,
        files={"file": ("x.csv", data)},
        data={"input_column": "b", "output_column": "c"},
        headers=headers,
    )
    assert ok.status_code == 202 and ok.json()["mapping"]["input"] == "b"
    wrong = client.post(
        url,
        files={"file": ("x.csv", data)},
        data={"input_column": "nope", "output_column": "c"},
        headers=headers,
    )
    assert wrong.status_code == 422
    assert "nope" in wrong.json()["error"]["message"]


def test_a_viewer_token_reads_but_cannot_upload(
    client: TestClient, session: Session, team: Team
) -> None:
    headers = _bearer(session, team, team.viewer)
    base = f"/api/v1/projects/{team.project.id}/datasets"
    assert client.get(base, headers=headers).json()[0]["name"] == team.dataset.name
    refused = client.post(
        f"{base}/{team.dataset.id}/uploads",
        files={"file": ("x.csv", b"a,b\n1,2\n")},
        headers=headers,
    )
    assert refused.status_code == 403
