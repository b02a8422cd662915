"""The saving phase of an ingestion: everything an upload adds, written in the caller's single
transaction (see :mod:`app.datasets.intake.ingest`)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.datasets.checking import finding_index, recheck
from app.datasets.intake import inspection, notices, storage
from app.datasets.models import Dataset, Example, ExampleStatus, Origin, Upload, UploadStatus
from app.datasets.quality import findings
from app.datasets.quality.checks import CheckReport
from app.datasets.records import ExampleDraft, Finding
from app.db import utcnow

if TYPE_CHECKING:
    from app.datasets.intake.ingest import Job


def _example_row(
    job: Job,
    draft: ExampleDraft,
    issues: list[dict[str, Any]],
    tokens: int,
    hashes: tuple[str, str],
) -> dict[str, Any]:
    errors = sum(1 for issue in issues if issue["severity"] == "error")
    pending = errors == 0
    now = utcnow()
    return {
        "project_id": job.project_id,
        "dataset_id": job.dataset_id,
        "upload_id": job.upload_id,
        "source_row": draft.row,
        "origin": Origin.UPLOAD,
        "system_instruction": draft.system,
        "turns": [turn.to_dict() for turn in draft.turns],
        "tag": draft.tag[:100] or None,
        "split": draft.split,
        "status": ExampleStatus.PENDING if pending else ExampleStatus.DRAFT,
        "content_hash": hashes[0],
        "prompt_hash": hashes[1],
        "token_estimate": tokens,
        "issues": issues,
        "error_count": errors,
        "warning_count": len(issues) - errors,
        "author_id": job.uploaded_by_id,
        "revision": 1,
        "created_at": now,
        "updated_at": now,
        "submitted_at": now if pending else None,
    }


def _counts(job: Job, rows: list[dict[str, Any]], report: CheckReport) -> dict[str, Any]:
    unreadable = {f.row for f in job.found if findings.scope_of(f.code) == "row"}
    mine = [f for f in report.findings if f.origin == job.origin]
    by_code = Counter(f.code for f in mine)
    return {
        "rows": len(rows) + len(unreadable),
        "examples": len(rows),
        "usable": sum(1 for row in rows if row["error_count"] == 0),
        "with_errors": sum(1 for row in rows if row["error_count"]) + len(unreadable),
        "with_warnings": sum(1 for row in rows if row["warning_count"]),
        "unreadable": len(unreadable),
        "by_code": dict(sorted(by_code.items())),
        "tokens": sum(row["token_estimate"] for row in rows),
    }


def _insert_examples(session: Session, job: Job, rows: list[dict[str, Any]]) -> list[int]:
    """Insert in plain batches (RETURNING ids in order would cost one statement per row on
    SQLite), then read the ids back: a row number is unique within its upload."""
    connection = session.connection()
    for start in range(0, len(rows), 5000):
        connection.execute(insert(Example), rows[start : start + 5000])
    ids = dict(
        session.execute(
            select(Example.source_row, Example.id).where(Example.upload_id == job.upload_id)
        ).all()
    )
    return [ids[row["source_row"]] for row in rows]


def _index_rows(job: Job, rows: list[dict[str, Any]], ids: list[int]) -> list[dict[str, Any]]:
    index: list[dict[str, Any]] = []
    for row, example_id in zip(rows, ids, strict=True):
        if row["issues"]:
            index += finding_index.example_rows(
                job.dataset_id, job.upload_id, example_id, row["issues"]
            )
    file_level: list[Finding] = [
        f for f in job.found if findings.scope_of(f.code) in ("file", "row")
    ]
    return index + finding_index.file_rows(job.dataset_id, job.upload_id, file_level)


def save(
    session: Session,
    job: Job,
    dataset: Dataset,
    loaded: recheck.Loaded,
    report: CheckReport,
) -> bool:
    """Write the upload's examples and findings and mark it ready; False if it moved on."""
    upload = session.get(Upload, job.upload_id, populate_existing=True)
    if upload is None or upload.status != UploadStatus.INGESTING:
        return False
    grouped = recheck.findings_by_ref(report.findings)
    offset = len(loaded.drafts)
    rows = [
        _example_row(
            job,
            draft,
            grouped.get(draft.ref, []),
            report.token_counts[offset + i],
            report.hashes[offset + i],
        )
        for i, draft in enumerate(job.drafts)
    ]
    ids = _insert_examples(session, job, rows)
    finding_index.insert_rows(session, _index_rows(job, rows, ids))
    recheck.apply(session, dataset_id=dataset.id, loaded=loaded, report=report)
    upload.status = UploadStatus.READY
    upload.counts = _counts(job, rows, report)
    upload.rows_total = upload.counts["rows"]
    upload.rows_done = upload.counts["rows"]
    upload.progress = 1.0
    upload.phase = None
    upload.finished_at = utcnow()
    upload.error = None
    upload.inspection = inspection.stripped(upload.inspection or {})
    storage.delete_after_commit(session, job.stored_path)
    counts = upload.counts
    notices.import_ended(
        session,
        user_id=job.uploaded_by_id,
        project_id=job.project_id,
        dataset_id=dataset.id,
        upload_id=job.upload_id,
        params={
            "file": job.file_name,
            "dataset": dataset.name,
            "rows": counts["rows"],
            "usable": counts["usable"],
            "with_errors": counts["with_errors"],
        },
        ok=True,
    )
    return True
