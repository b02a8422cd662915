"""The report's index of findings (``dataset_finding``): one row per finding, so the report can
filter and count by code and severity with an index instead of reading every example.

An example's findings live in ``Example.issues`` (what the engine computed); this module keeps
the index in step whenever they change. Findings without an example are about rows that could
not be read (``row`` > 0) or about a whole file (``row`` 0); they are written once, at ingestion.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from app.datasets.models import DatasetFinding, Example
from app.datasets.records import Finding

COLUMN_LIMIT = 255


def index_row(
    dataset_id: int,
    upload_id: int | None,
    example_id: int | None,
    issue: Mapping[str, Any],
) -> dict[str, Any]:
    column = issue.get("column")
    return {
        "dataset_id": dataset_id,
        "upload_id": upload_id,
        "example_id": example_id,
        "row": int(issue.get("row") or 0),
        "origin": str(issue.get("origin") or "")[:24],
        "code": str(issue["code"])[:40],
        "severity": "error" if issue.get("severity") == "error" else "warning",
        "column": str(column)[:COLUMN_LIMIT] if column else None,
        "params": dict(issue.get("params") or {}),
        "related": list(issue.get("related_rows") or []),
        "span": list(issue["span"]) if issue.get("span") else None,
    }


def example_rows(
    dataset_id: int, upload_id: int | None, example_id: int, issues: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Index rows for an example's findings (for a bulk insert)."""
    return [index_row(dataset_id, upload_id, example_id, issue) for issue in issues]


def insert_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(DatasetFinding), list(rows))


def sync_example(session: Session, example: Example) -> None:
    """Replace the index rows of one example by its current findings."""
    if example.id is None:
        session.flush([example])
    session.execute(delete(DatasetFinding).where(DatasetFinding.example_id == example.id))
    insert_rows(
        session, example_rows(example.dataset_id, example.upload_id, example.id, example.issues)
    )


def sync_examples(session: Session, examples: Sequence[Example]) -> None:
    """``sync_example`` for many examples at once."""
    if not examples:
        return
    ids = [example.id for example in examples]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        session.execute(delete(DatasetFinding).where(DatasetFinding.example_id.in_(chunk)))
    rows: list[dict[str, Any]] = []
    for example in examples:
        rows += example_rows(example.dataset_id, example.upload_id, example.id, example.issues)
    insert_rows(session, rows)


def file_rows(dataset_id: int, upload_id: int, found: Iterable[Finding]) -> list[dict[str, Any]]:
    """Index rows for findings that belong to no example: unreadable rows and whole-file ones."""
    return [index_row(dataset_id, upload_id, None, finding.to_dict()) for finding in found]
