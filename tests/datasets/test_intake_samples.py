"""Both samples load in one click through the real upload path, and every problem the manifest
plants shows up in the report as the finding of that code, at that row — and nothing else."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.datasets.intake import ingest, samples
from app.datasets.models import DatasetFinding, Example, Upload, UploadStatus
from app.datasets.report import summary
from tests.datasets.conftest import Team


@pytest.mark.parametrize("sample_id", ["support-faq-ja", "brand-voice-en"])
def test_every_planted_problem_shows_up(session: Session, team: Team, sample_id: str) -> None:
    dataset = samples.load(session, actor=team.expert, project=team.project, sample_id=sample_id)
    session.commit()
    uploads = session.scalars(
        select(Upload).where(Upload.dataset_id == dataset.id).order_by(Upload.id)
    ).all()
    for upload in uploads:
        assert ingest.ingest_upload(upload.id) == "ready"
    session.expire_all()
    by_file = {u.file_name: u.id for u in uploads}
    found = {
        (upload_id, row, code)
        for upload_id, row, code in session.execute(
            select(Example.upload_id, Example.source_row, DatasetFinding.code).join(
                DatasetFinding, DatasetFinding.example_id == Example.id
            )
        ).all()
    }
    sample = samples.get_sample(sample_id)
    planted = {
        (by_file[problem["file"]], row, problem["kind"])
        for problem in sample.planted()
        for row in problem["rows"]
    }
    assert planted <= found
    # Besides the planted problems, at most the stray space of the duplicated FAQ row 68.
    assert {code for *_rest, code in found - planted} <= {"whitespace"}
    counts = {u.file_name: u.counts["rows"] for u in uploads}
    assert sum(counts.values()) == sum(sample.counts.values())
    assert all(u.status == UploadStatus.READY for u in uploads)
    splits = {e.split for e in session.scalars(select(Example))}
    assert "test" in splits
    assert summary.summarize(session, dataset).examples == sum(sample.counts.values())
