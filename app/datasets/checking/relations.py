"""Relations between rows (duplicates, conflicts) as the fixes change them.

A fix that ends a relation (a row excluded, a conflict settled) removes it at once from the
findings on both sides, so the report is right immediately; the dataset-wide recheck that every
fix asks for then confirms it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.datasets.checking import finding_index
from app.datasets.checking.recheck import next_status
from app.datasets.editing import examples
from app.datasets.models import Dataset, Example, ExampleStatus
from app.datasets.records import RowRef


def examples_by_refs(session: Session, dataset_id: int, refs: Iterable[RowRef]) -> list[Example]:
    by_upload: dict[int, set[int]] = {}
    ids: set[int] = set()
    for ref in refs:
        if ref.origin[1:].isdigit():
            if ref.origin.startswith("e"):
                ids.add(int(ref.origin[1:]))
            elif ref.origin.startswith("u"):
                by_upload.setdefault(int(ref.origin[1:]), set()).add(ref.row)
    found: list[Example] = []
    if ids:
        found += session.scalars(
            select(Example).where(Example.dataset_id == dataset_id, Example.id.in_(sorted(ids)))
        )
    for upload_id, rows in by_upload.items():
        found += session.scalars(
            select(Example).where(
                Example.dataset_id == dataset_id,
                Example.upload_id == upload_id,
                Example.source_row.in_(sorted(rows)),
            )
        )
    return found


def related_refs(example: Example, codes: Sequence[str]) -> set[RowRef]:
    return {
        RowRef(int(row), str(origin))
        for issue in example.issues
        if issue.get("code") in codes
        for row, origin in issue.get("related_rows") or ()
    }


def drop_relations(
    session: Session, dataset: Dataset, gone: Sequence[Example], codes: Sequence[str]
) -> None:
    """The ``gone`` examples no longer relate to anyone (excluded, or settled): remove them from
    the findings of their neighbours; a finding left without related rows disappears."""
    gone_refs = {examples.example_ref(example) for example in gone}
    gone_ids = {example.id for example in gone}
    neighbour_refs: set[RowRef] = set()
    for example in gone:
        neighbour_refs |= related_refs(example, codes)
    neighbours = [
        n
        for n in examples_by_refs(session, dataset.id, neighbour_refs - gone_refs)
        if n.id not in gone_ids and n.status != ExampleStatus.EXCLUDED
    ]
    for neighbour in neighbours:
        kept: list[dict[str, Any]] = []
        for issue in neighbour.issues:
            if issue.get("code") in codes:
                others = [
                    pair
                    for pair in issue.get("related_rows") or ()
                    if RowRef(int(pair[0]), str(pair[1])) not in gone_refs
                ]
                if not others:
                    continue
                issue = {**issue, "related_rows": others}
            kept.append(issue)
        if kept != neighbour.issues:
            set_issues(neighbour, kept)
            finding_index.sync_example(session, neighbour)


def set_issues(example: Example, issues: list[dict[str, Any]]) -> None:
    example.issues = issues
    example.error_count = sum(1 for issue in issues if issue.get("severity") == "error")
    example.warning_count = len(issues) - example.error_count
    example.status = next_status(example.status, example.error_count)


def forget_relations(example: Example, codes: Sequence[str], refs: set[RowRef]) -> None:
    """Remove ``refs`` from the example's own findings of ``codes``."""
    issues: list[dict[str, Any]] = []
    for issue in example.issues:
        if issue.get("code") in codes:
            others = [
                p
                for p in issue.get("related_rows") or ()
                if RowRef(int(p[0]), str(p[1])) not in refs
            ]
            if not others:
                continue
            issue = {**issue, "related_rows": others}
        issues.append(issue)
    if issues != example.issues:
        set_issues(example, issues)
