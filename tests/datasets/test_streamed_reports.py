"""JSON reports and downloads are streamed: the first bytes leave before the last finding is
read, in steps of bounded size, and the document is the same whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.service import create_api_token
from app.datasets.intake.samples import SAMPLES_DIR
from app.datasets.report import documents
from app.datasets.versions import downloads
from tests.datasets.conftest import Team
from tests.datasets.factories import import_file


def test_the_dataset_report_arrives_in_steps_and_parses_whole(
    client: TestClient, session: Session, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = Path(SAMPLES_DIR / "support_faq_ja.csv").read_bytes()
    upload = import_file(session, dataset=team.dataset, user=team.expert, name="faq.csv", data=data)
    _token, plain = create_api_token(session, user=team.expert, name="ci")
    session.commit()
    monkeypatch.setattr(documents, "STREAM_BATCH", 2)
    base = f"/api/v1/projects/{team.project.id}/datasets/{team.dataset.id}"
    headers = {"Authorization": f"Bearer {plain}"}
    for url in (f"{base}/report", f"{base}/uploads/{upload.id}/report"):
        with client.stream("GET", url, headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("application/json")
            chunks = list(response.iter_raw())
        document = json.loads(b"".join(chunks))
        findings = document["findings"]
        assert len(findings) >= 6 and len(chunks) >= len(findings) // 2
        assert document["stats"]["errors"] == sum(f["severity"] == "error" for f in findings)
        assert document["stats"]["warnings"] == sum(f["severity"] == "warning" for f in findings)
        assert document["usable"] == 186


def test_downloads_are_sent_in_chunks_of_bounded_size() -> None:
    lines = [f'{{"n":{n},"text":"{"あ" * 40}"}}\n' for n in range(20_000)]
    chunks = list(downloads.in_chunks(lines))
    assert b"".join(chunks).decode() == "".join(lines)
    assert len(chunks) > 1
    assert max(len(chunk) for chunk in chunks) <= 2 * downloads.CHUNK_BYTES
