"""Ingestion and rechecks in a real Celery worker: progress that moves while it runs, the
dataset-wide recheck after a fix, and a worker killed mid-import leaving nothing half-imported
(the sweeper sends the import again and it completes exactly once)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.datasets.intake import sweeper
from app.datasets.models import CheckStatus, Dataset, Example, Upload, UploadStatus
from app.db import utcnow
from tests.datasets.conftest import Team
from tests.datasets.factories import csv_bytes, distinct_rows
from tests.processes import worker
from tests.support import login, wait_for

pytestmark = pytest.mark.worker


def _upload_and_confirm(client: TestClient, team: Team, rows: list[list[str]]) -> int:
    base = f"/projects/{team.project.id}/datasets/{team.dataset.id}"
    data = csv_bytes([["question", "answer"], *rows])
    sent = client.post(f"{base}/uploads", files={"file": ("big.csv", data, "text/csv")})
    assert sent.status_code == 303
    url = sent.headers["location"]
    confirmed = client.post(
        f"{url}/import", data={"input_column": "question", "output_column": "answer"}
    )
    assert confirmed.status_code == 303
    return int(url.rsplit("/", 1)[1])


def _upload(session: Session, upload_id: int) -> Upload:
    found = session.get(Upload, upload_id, populate_existing=True)
    assert found is not None
    return found


def _count(session: Session, dataset: Dataset) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Example).where(Example.dataset_id == dataset.id)
        )
        or 0
    )


def test_the_worker_imports_with_progress_then_rechecks_after_a_fix(
    client: TestClient,
    session: Session,
    team: Team,
    process_env: dict[str, str],
    tmp_path: Path,
) -> None:
    pairs = distinct_rows(30_000)
    rows = [[q, a] for q, a in pairs] + [[pairs[0][0], pairs[0][1]]]  # one exact duplicate
    running = worker(process_env, tmp_path).start(ready_text="ready.")
    try:
        login(client, team.expert)
        upload_id = _upload_and_confirm(client, team, rows)
        seen: set[tuple[str | None, float]] = set()

        def finished() -> bool:
            upload = _upload(session, upload_id)
            seen.add((upload.phase, round(upload.progress, 2)))
            return upload.status in (UploadStatus.READY, UploadStatus.FAILED)

        wait_for(finished, timeout=120, interval=0.05, message="the import")
        upload = _upload(session, upload_id)
        assert upload.status == UploadStatus.READY, upload.error
        assert upload.counts["rows"] == 30_001 and _count(session, team.dataset) == 30_001
        # The progress moved while the worker ran: several distinct steps were committed.
        steps = {step for step in seen if step[0] is not None}
        assert len(steps) >= 3, seen
        assert {"reading", "checking"} <= {phase for phase, _ in steps}

        # A fix: the copy is edited into a new question; the worker rechecks the dataset.
        copy = session.scalar(
            select(Example).where(Example.upload_id == upload_id, Example.source_row == 30_002)
        )
        assert copy is not None and copy.issues[0]["code"] == "exact_duplicate"
        base = f"/projects/{team.project.id}/datasets/{team.dataset.id}"
        saved = client.post(
            f"{base}/examples/{copy.id}",
            data={"roles": ["user", "model"], "texts": ["A new question?", "A new answer."]},
        )
        assert saved.status_code == 303

        def rechecked() -> bool:
            dataset = session.get(Dataset, team.dataset.id, populate_existing=True)
            return dataset is not None and dataset.check_status == CheckStatus.CURRENT

        wait_for(rechecked, timeout=120, interval=0.2, message="the recheck")
        original = session.scalar(
            select(Example).where(Example.upload_id == upload_id, Example.source_row == 2)
        )
        assert original is not None
        session.refresh(original)
        assert original.issues == []  # its duplicate is gone
    finally:
        running.stop()


def test_a_worker_killed_mid_import_leaves_nothing_and_the_import_is_sent_again(
    client: TestClient,
    session: Session,
    team: Team,
    embedded_process_env: dict[str, str],
    tmp_path: Path,
) -> None:
    rows = [[q, a] for q, a in distinct_rows(60_000, seed=11)]
    first = worker(embedded_process_env, tmp_path, name="doomed").start(ready_text="ready.")
    try:
        login(client, team.expert)
        upload_id = _upload_and_confirm(client, team, rows)
        wait_for(
            lambda: _upload(session, upload_id).status == UploadStatus.INGESTING,
            timeout=60,
            interval=0.05,
            message="the worker to start importing",
        )
        first.kill()
    finally:
        first.stop()
    upload = _upload(session, upload_id)
    assert upload.status == UploadStatus.INGESTING and upload.attempts == 1
    assert _count(session, team.dataset) == 0  # nothing half-imported
    # Later, the sweeper notices the silence and sends the import again.
    session.execute(
        update(Upload)
        .where(Upload.id == upload_id)
        .values(heartbeat_at=utcnow() - sweeper.STALE_INGESTION - timedelta(seconds=1))
    )
    session.commit()
    second = worker(embedded_process_env, tmp_path, name="second").start(ready_text="ready.")
    try:
        assert sweeper.sweep()["recovered"] == 1
        wait_for(
            lambda: _upload(session, upload_id).status == UploadStatus.READY,
            timeout=180,
            interval=0.2,
            message="the import to complete",
        )
    finally:
        second.stop()
    upload = _upload(session, upload_id)
    assert upload.attempts == 2
    assert _count(session, team.dataset) == 60_000
