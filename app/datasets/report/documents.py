"""A dataset's findings as data: streamed for the CSV download and shaped for the JSON API the
way ``tunedesk check --format json`` prints them (``row``, ``column``, ``code``, ``severity``,
``message``, ``related_rows``), plus the file each row comes from, since a dataset has several.

Counted: findings of examples that are not excluded, rows of imported files that could not be
read (unless ignored), and findings about whole files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.datasets.models import (
    Dataset,
    DatasetFinding,
    Example,
    ExampleStatus,
    Upload,
    UploadStatus,
)
from app.datasets.records import Finding
from app.datasets.report import rows
from app.datasets.report import summary as summaries
from app.datasets.report.summary import Summary, counts_by_upload

PII_KINDS = {
    "pii_email": "email",
    "pii_phone": "phone",
    "pii_credit_card": "credit_card",
    "pii_my_number": "my_number",
}


@dataclass(slots=True)
class FindingItem:
    finding: Finding
    upload_id: int | None
    file_name: str
    example_id: int | None
    status: str | None
    message: str
    hint: str
    related: list[str]

    def as_json(self, *, with_files: bool) -> dict[str, Any]:
        item: dict[str, Any] = {
            "row": self.finding.row,
            "column": self.finding.column,
            "code": self.finding.code,
            "severity": self.finding.severity,
            "message": self.message,
            "related_rows": [ref.row for ref in self.finding.related_rows],
        }
        if with_files:
            item["file"] = self.file_name or None
            item["example_id"] = self.example_id
            item["related"] = self.related
        return item


def dataset_findings(
    session: Session, dataset_id: int, *, upload_id: int | None = None
) -> Iterator[FindingItem]:
    names = dict(
        session.execute(
            select(Upload.id, Upload.file_name).where(Upload.dataset_id == dataset_id)
        ).all()
    )
    query = (
        select(DatasetFinding, Example.status)
        .outerjoin(Example, Example.id == DatasetFinding.example_id)
        .outerjoin(Upload, Upload.id == DatasetFinding.upload_id)
        .where(
            DatasetFinding.dataset_id == dataset_id,
            or_(
                and_(
                    DatasetFinding.example_id.is_not(None),
                    Example.status != ExampleStatus.EXCLUDED,
                ),
                and_(
                    DatasetFinding.example_id.is_(None),
                    DatasetFinding.dismissed_at.is_(None),
                    Upload.status == UploadStatus.READY,
                ),
            ),
        )
        .order_by(DatasetFinding.upload_id, DatasetFinding.row, DatasetFinding.id)
        .execution_options(yield_per=1000)
    )
    if upload_id is not None:
        query = query.where(DatasetFinding.upload_id == upload_id)
    for stored, status in session.execute(query):
        finding = Finding.from_dict(
            {
                "code": stored.code,
                "severity": stored.severity,
                "row": stored.row,
                "column": stored.column,
                "params": stored.params,
                "related_rows": stored.related,
                "span": stored.span,
                "origin": stored.origin,
            }
        )
        view = rows.finding_view(finding, stored.origin, names, {})
        yield FindingItem(
            finding,
            stored.upload_id,
            names.get(stored.upload_id or 0, ""),
            stored.example_id,
            status,
            view.message,
            view.hint,
            [related.label for related in view.related],
        )


def _stats(summary: Summary, severities: Counter[str]) -> dict[str, Any]:
    return {
        "rows": summary.rows,
        "usable": summary.usable,
        "errors": severities["error"],
        "warnings": severities["warning"],
        "rows_with_errors": summary.with_errors,
        "rows_with_warnings": summary.with_warnings,
        "excluded": summary.excluded,
        "by_code": dict(sorted(summary.by_code.items())),
        "exact_duplicate_groups": summary.exact_groups,
        "near_duplicate_groups": summary.near_groups,
        "conflict_groups": summary.conflict_groups,
        "pii": {kind: summary.by_code.get(code, 0) for code, kind in PII_KINDS.items()},
        "by_status": summary.by_status,
        "tokens": summary.tokens,
    }


def dataset_document(session: Session, dataset: Dataset) -> dict[str, Any]:
    items = list(dataset_findings(session, dataset.id))
    summary = summaries.current(session, dataset)
    summary.by_status = summaries.status_counts(session, dataset.id)
    return {
        "dataset": dataset.id,
        "name": dataset.name,
        "rows": summary.rows,
        "usable": summary.usable,
        "checking": dataset.check_status != "current",
        "findings": [item.as_json(with_files=True) for item in items],
        "stats": _stats(summary, Counter(item.finding.severity for item in items)),
    }


def upload_document(session: Session, dataset: Dataset, upload: Upload) -> dict[str, Any]:
    """One file's report, in exactly the shape of ``tunedesk check --format json``."""
    items = list(dataset_findings(session, dataset.id, upload_id=upload.id))
    counts = upload.counts or {}
    active = counts_by_upload(session, dataset.id).get(upload.id, 0)
    with_errors = len(
        {
            item.finding.row
            for item in items
            if item.finding.severity == "error" and item.example_id is not None
        }
    )
    return {
        "format": upload.format or "unknown",
        "encoding": upload.encoding,
        "rows": int(counts.get("rows", 0)),
        "usable": max(0, active - with_errors),
        "findings": [item.as_json(with_files=False) for item in items],
        "stats": {
            **counts,
            "errors": sum(1 for item in items if item.finding.severity == "error"),
            "warnings": sum(1 for item in items if item.finding.severity == "warning"),
        },
    }
