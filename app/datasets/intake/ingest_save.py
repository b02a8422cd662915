"""The saving phase of an ingestion: everything an upload adds, written in the caller's single
transaction (see :mod:`app.datasets.intake.ingest`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.datasets.bulk_insert import bulk_write_cache, insert_rows
from app.datasets.checking import finding_index, recheck
from app.datasets.intake import inspection, notices, storage
from app.datasets.models import (
    Dataset,
    DatasetFinding,
    Example,
    ExampleStatus,
    Origin,
    Upload,
    UploadStatus,
)
from app.datasets.quality import findings
from app.datasets.quality.checks import CheckReport
from app.datasets.records import ExampleDraft
from app.db import utcnow

if TYPE_CHECKING:
    from app.datasets.intake.ingest import Job


# The example columns an upload writes, in the order ``_example_row`` gives them.
EXAMPLE_COLUMNS = (
    "project_id",
    "dataset_id",
    "upload_id",
    "source_row",
    "origin",
    "system_instruction",
    "turns",
    "tag",
    "split",
    "status",
    "content_hash",
    "prompt_hash",
    "token_estimate",
    "issues",
    "error_count",
    "warning_count",
    "author_id",
    "revision",
    "created_at",
    "updated_at",
    "submitted_at",
)
FINDING_COLUMNS = (
    "dataset_id",
    "upload_id",
    "example_id",
    "row",
    "origin",
    "code",
    "severity",
    "column",
    "params",
    "related",
    "span",
    "created_at",
)


@dataclass(slots=True)
class NewRow:
    """What the saving phase keeps of an example it writes (the draft's content goes straight
    into the INSERT, never into a second copy)."""

    source_row: int
    issues: list[dict[str, Any]]
    errors: int
    tokens: int


def _example_row(
    job: Job, draft: ExampleDraft, new: NewRow, hashes: tuple[str, str], now: datetime
) -> tuple[Any, ...]:
    pending = new.errors == 0
    return (
        job.project_id,
        job.dataset_id,
        job.upload_id,
        draft.row,
        Origin.UPLOAD.value,
        draft.system,
        [{"role": turn.role, "text": turn.text} for turn in draft.turns],
        draft.tag[:100] or None,
        draft.split,
        (ExampleStatus.PENDING if pending else ExampleStatus.DRAFT).value,
        hashes[0],
        hashes[1],
        new.tokens,
        new.issues,
        new.errors,
        len(new.issues) - new.errors,
        job.uploaded_by_id,
        1,
        now,
        now,
        now if pending else None,
    )


def _counts(job: Job, rows: list[NewRow], report: CheckReport) -> dict[str, Any]:
    unreadable = {f.row for f in job.found if findings.scope_of(f.code) == "row"}
    mine = [f for f in report.findings if f.origin == job.origin]
    by_code = Counter(f.code for f in mine)
    return {
        "rows": len(rows) + len(unreadable),
        "examples": len(rows),
        "usable": sum(1 for row in rows if row.errors == 0),
        "with_errors": sum(1 for row in rows if row.errors) + len(unreadable),
        "with_warnings": sum(1 for row in rows if len(row.issues) > row.errors),
        "unreadable": len(unreadable),
        "by_code": dict(sorted(by_code.items())),
        "tokens": sum(row.tokens for row in rows),
    }


def _new_rows(
    job: Job, report: CheckReport, offset: int
) -> tuple[list[NewRow], list[tuple[Any, ...]]]:
    grouped = recheck.findings_by_ref(f for f in report.findings if f.origin == job.origin)
    now = utcnow()
    kept: list[NewRow] = []
    values: list[tuple[Any, ...]] = []
    for i, draft in enumerate(job.drafts):
        issues = grouped.get(draft.ref, [])
        errors = sum(1 for issue in issues if issue["severity"] == "error")
        new = NewRow(draft.row, issues, errors, report.token_counts[offset + i])
        kept.append(new)
        values.append(_example_row(job, draft, new, report.hashes[offset + i], now))
    return kept, values


def _insert_examples(session: Session, job: Job, values: list[tuple[Any, ...]]) -> dict[int, int]:
    """Insert in plain batches (RETURNING ids in order would cost one statement per row on
    SQLite), then read the ids back: a row number is unique within its upload."""
    connection = session.connection()
    insert_rows(connection, Example.__table__, EXAMPLE_COLUMNS, values)
    query = select(Example.source_row, Example.id).where(Example.upload_id == job.upload_id)
    return {int(row or 0): example_id for row, example_id in connection.execute(query)}


def _index_rows(job: Job, rows: list[NewRow], ids: dict[int, int]) -> Iterator[tuple[Any, ...]]:
    now = utcnow()
    for new in rows:
        for issue in new.issues:
            yield _finding_tuple(job, ids[new.source_row], issue, now)
    for finding in job.found:
        if findings.scope_of(finding.code) in ("file", "row"):
            yield _finding_tuple(job, None, finding.to_dict(), now)


def _finding_tuple(
    job: Job, example_id: int | None, issue: dict[str, Any], now: datetime
) -> tuple[Any, ...]:
    row = finding_index.index_row(job.dataset_id, job.upload_id, example_id, issue)
    return (*(row[name] for name in FINDING_COLUMNS[:-1]), now)


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
    rows, values = _new_rows(job, report, len(loaded.drafts))
    connection = session.connection()
    with bulk_write_cache(connection):
        ids = _insert_examples(session, job, values)
        del values  # the content is in the database now; keep memory for what follows
        index = _index_rows(job, rows, ids)
        insert_rows(connection, DatasetFinding.__table__, FINDING_COLUMNS, index)
    if loaded.stored:
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
