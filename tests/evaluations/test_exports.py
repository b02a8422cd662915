"""Result downloads: CSV (BOM, one row per question × model, formula-escaped cells, in the
reader's language) and JSONL (one question per line with every model's answer, scores, the
judge's verdict and the votes)."""

from __future__ import annotations

import csv
import io
import json

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.evaluations.models import EvalOutput
from app.projects.permissions import Role
from tests.evaluations.factories import finished_evaluation, vote
from tests.factories import project_with_roles
from tests.support import login


def test_csv_and_jsonl_exports(client: TestClient, session: Session) -> None:
    project, users = project_with_roles(session)
    built = finished_evaluation(session, project=project, actor=users[Role.MANAGER], count=10)
    # A model answer a spreadsheet would run as a formula.
    output = (
        session.query(EvalOutput)
        .filter_by(item_id=built.items[0].id, candidate_id=built.tuned.id)
        .one()
    )
    output.text = '=HYPERLINK("http://evil.example","click")'
    session.commit()
    vote(session, built=built, item=built.items[0], voter=users[Role.REVIEWER], outcome="tuned")
    login(client, users[Role.VIEWER])
    base = f"/projects/{project.id}/evaluations/{built.evaluation.id}/export"
    response = client.get(f"{base}?format=csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    header, data = rows[0], rows[1:]
    assert header[:5] == ["Question #", "Tag", "Question", "Reference answer", "Model"]
    assert len(data) == 20  # 10 questions × 2 models
    tuned_row = next(r for r in data if r[0] == "1" and r[5] == "tuned")
    assert tuned_row[6] == '\'=HYPERLINK("http://evil.example","click")'
    assert tuned_row[header.index("Judge verdict")] == "tuned"
    assert tuned_row[header.index("Votes: tuned better")] == "1"
    assert float(tuned_row[header.index("chrF")]) > 0
    japanese = client.get(f"{base}?format=csv", headers={"Accept-Language": "ja"})
    assert japanese.content.decode("utf-8").splitlines()[0] != body.splitlines()[0]

    lines = client.get(f"{base}?format=jsonl").text.splitlines()
    assert len(lines) == 10
    first = json.loads(lines[0])
    assert first["position"] == 1 and first["tag"] == "shipping"
    assert [o["role"] for o in first["outputs"]] == ["baseline", "tuned"]
    assert first["outputs"][1]["text"].startswith("=HYPERLINK")  # JSON keeps the raw text
    assert first["outputs"][0]["scores"]["chrf"] > 0
    assert first["judge"]["winner"] == "tuned"
    assert first["votes"] == {"tuned": 1, "baseline": 0, "tie": 0, "both_bad": 0}
    assert first["fixed"] is False
    other, _users = project_with_roles(session)
    assert (
        client.get(f"/projects/{other.id}/evaluations/{built.evaluation.id}/export").status_code
        == 403
    )
