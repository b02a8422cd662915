"""Downloads of the report: the findings as CSV (for a spreadsheet) and the cleaned examples as
JSONL. Both stream in batches from their own database session (the request's session is closed
before a streamed body is sent), in the language of the person downloading.

The CSV is UTF-8 with a BOM (Excel, Japanese Excel included, opens it correctly) and every cell
that a spreadsheet would run as a formula — starting with ``= + - @``, a tab or a carriage
return, also in their full-width forms — is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterator
from itertools import islice
from typing import Any
from urllib.parse import quote

from fastapi.responses import StreamingResponse
from sqlalchemy import select

from app.datasets.models import Dataset, Example, ExampleStatus
from app.datasets.quality import labels
from app.datasets.report import documents
from app.datasets.versions.export import vertex_line
from app.db import new_session
from app.i18n import _, get_locale, set_locale

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 1000


def escape_cell(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    if text and unicodedata.normalize("NFKC", text[0]).startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _csv_line(cells: list[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([escape_cell(cell) for cell in cells])
    return buffer.getvalue()


def _header() -> list[object]:
    return [
        _("File"),
        _("Row"),
        _("Column"),
        _("Code"),
        _("Problem"),
        _("Severity"),
        _("Message"),
        _("What to do"),
        _("Related rows"),
        _("Status"),
    ]


def _finding_cells(item: documents.FindingItem) -> list[object]:
    severity = {"error": _("error"), "warning": _("warning")}
    return [
        item.file_name,
        item.finding.row or "",
        item.finding.column or "",
        item.finding.code,
        labels.code_label(item.finding.code),
        severity[item.finding.severity],
        item.message,
        item.hint,
        "; ".join(item.related),
        labels.status_label(item.status) if item.status else "",
    ]


def _findings_lines(dataset_id: int, locale: str) -> Iterator[bytes]:
    # Each step of a streamed body runs in a fresh copy of the request's context (and costs a
    # thread hop): the language is set again at every step, and a step yields 1,000 lines.
    with new_session() as session:
        set_locale(locale)
        items = documents.dataset_findings(session, dataset_id)
        pieces = ["\ufeff" + _csv_line(_header())]
        while True:
            set_locale(locale)
            batch = [_csv_line(_finding_cells(item)) for item in islice(items, BATCH)]
            yield "".join(pieces + batch).encode()
            if len(batch) < BATCH:
                return
            pieces = []


def _filename(dataset: Dataset, suffix: str) -> str:
    return quote(f"{dataset.name}-{suffix}")


def findings_csv_response(dataset: Dataset) -> StreamingResponse:
    name = _filename(dataset, "findings.csv")
    return StreamingResponse(
        _findings_lines(dataset.id, get_locale()),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


def cleaned_line(example: Example) -> dict[str, Any]:
    line = vertex_line(example.system_instruction, example.turns)
    if example.split:
        line["split"] = example.split
    if example.tag:
        line["tag"] = example.tag
    return line


def _cleaned_lines(dataset_id: int) -> Iterator[bytes]:
    """Examples that are not excluded, rejected or in error, in file order."""
    with new_session() as session:
        query = (
            select(Example)
            .where(
                Example.dataset_id == dataset_id,
                Example.status.not_in((ExampleStatus.EXCLUDED, ExampleStatus.REJECTED)),
                Example.error_count == 0,
            )
            .order_by(Example.upload_id, Example.source_row, Example.id)
            .execution_options(yield_per=BATCH)
        )
        examples = session.scalars(query)
        while batch := list(islice(examples, BATCH)):
            yield "".join(
                json.dumps(cleaned_line(e), ensure_ascii=False, separators=(",", ":")) + "\n"
                for e in batch
            ).encode()


def cleaned_jsonl_response(dataset: Dataset) -> StreamingResponse:
    name = _filename(dataset, "cleaned.jsonl")
    return StreamingResponse(
        _cleaned_lines(dataset.id),
        media_type="application/jsonl; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )
