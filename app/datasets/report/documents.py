"""A dataset's findings as data: streamed for the CSV download and shaped for the JSON API the
way ``tunedesk check --format json`` prints them (``row``, ``column``, ``code``, ``severity``,
``message``, ``related_rows``), plus the file each row comes from, since a dataset has several.

Counted: findings of examples that are not excluded, rows of imported files that could not be
read (unless ignored), and findings about whole files.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import and_, func, or_, select
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
from app.db import new_session
from app.i18n import set_locale

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


# Findings per step of a streamed body (each step costs a thread hop and sets the language).
STREAM_BATCH = 1000


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _stream_findings(
    items: Iterator[FindingItem], locale: str, *, with_files: bool, severities: Counter[str]
) -> Iterator[str]:
    """The findings as the members of a JSON array, a batch per step, counting severities."""
    first = True
    while True:
        set_locale(locale)
        batch = list(islice(items, STREAM_BATCH))
        parts = []
        for item in batch:
            severities[item.finding.severity] += 1
            parts.append(("" if first else ",") + _dumps(item.as_json(with_files=with_files)))
            first = False
        yield "".join(parts)
        if len(batch) < STREAM_BATCH:
            return


def dataset_document_stream(dataset_id: int, locale: str) -> Iterator[bytes]:
    """The whole dataset's report as JSON, streamed from a session of its own (the request's is
    closed by the time the body is sent): the first bytes leave before the last finding is
    read, and memory stays flat whatever the size. Same shape as before: stats come last, so
    they can count the findings on the way."""
    with new_session() as session:
        set_locale(locale)
        dataset = session.get(Dataset, dataset_id)
        if dataset is None:
            return
        summary = summaries.current(session, dataset)
        summary.by_status = summaries.status_counts(session, dataset.id)
        head = {
            "dataset": dataset.id,
            "name": dataset.name,
            "rows": summary.rows,
            "usable": summary.usable,
            "checking": dataset.check_status != "current",
        }
        severities: Counter[str] = Counter()
        yield (_dumps(head)[:-1] + ',"findings":[').encode()
        items = dataset_findings(session, dataset.id)
        for text in _stream_findings(items, locale, with_files=True, severities=severities):
            yield text.encode()
        yield ("]," + '"stats":' + _dumps(_stats(summary, severities)) + "}").encode()


def _rows_with_errors(session: Session, dataset_id: int, upload_id: int) -> int:
    """Rows of the upload whose example (not excluded) has an error finding."""
    return (
        session.scalar(
            select(func.count(func.distinct(DatasetFinding.row)))
            .join(Example, Example.id == DatasetFinding.example_id)
            .where(
                DatasetFinding.dataset_id == dataset_id,
                DatasetFinding.upload_id == upload_id,
                DatasetFinding.severity == "error",
                Example.status != ExampleStatus.EXCLUDED,
            )
        )
        or 0
    )


def upload_document_stream(dataset_id: int, upload_id: int, locale: str) -> Iterator[bytes]:
    """One file's report, in exactly the shape of ``tunedesk check --format json``, streamed."""
    with new_session() as session:
        set_locale(locale)
        upload = session.get(Upload, upload_id)
        if upload is None:
            return
        counts = upload.counts or {}
        active = counts_by_upload(session, dataset_id).get(upload.id, 0)
        head = {
            "format": upload.format or "unknown",
            "encoding": upload.encoding,
            "rows": int(counts.get("rows", 0)),
            "usable": max(0, active - _rows_with_errors(session, dataset_id, upload.id)),
        }
        severities: Counter[str] = Counter()
        yield (_dumps(head)[:-1] + ',"findings":[').encode()
        items = dataset_findings(session, dataset_id, upload_id=upload.id)
        for text in _stream_findings(items, locale, with_files=False, severities=severities):
            yield text.encode()
        stats = {
            **counts,
            "errors": severities["error"],
            "warnings": severities["warning"],
        }
        yield ("]," + '"stats":' + _dumps(stats) + "}").encode()
