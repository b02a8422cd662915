"""Running the intake engine's checks over a whole dataset from the database, and writing the
findings back: the recheck task and the check phase of an ingestion share this.

Excluded examples take no part (a duplicate of an excluded row is no longer a duplicate). An
example's findings are rewritten only when they changed, with a compare-and-set on its revision:
an example edited while the check ran keeps its fresh findings, and the edit has already asked
for another run.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.datasets.checking import check_status, finding_index
from app.datasets.editing import examples
from app.datasets.models import (
    CheckStatus,
    Dataset,
    DatasetFinding,
    Example,
    ExampleStatus,
    Upload,
)
from app.datasets.quality.checks import CheckOptions, CheckReport, check_examples
from app.datasets.records import ExampleDraft, Finding, RowRef
from app.datasets.report import summary
from app.db import rows_affected, task_session, utcnow

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Stored:
    """What the check needs to know about an example already in the database."""

    id: int
    upload_id: int | None
    revision: int
    status: str
    issues: list[dict[str, Any]]


@dataclass(slots=True)
class Loaded:
    drafts: list[ExampleDraft] = field(default_factory=list)
    stored: dict[RowRef, Stored] = field(default_factory=dict)


def options_for(dataset: Dataset) -> CheckOptions:
    return CheckOptions(near_duplicate_threshold=dataset.near_duplicate_threshold)


def load_active(session: Session, *, dataset_id: int) -> Loaded:
    """Every example of the dataset that is not excluded, as engine drafts."""
    uploads = {
        upload.id: examples.upload_columns(upload)
        for upload in session.scalars(select(Upload).where(Upload.dataset_id == dataset_id))
    }
    loaded = Loaded()
    query = (
        select(Example)
        .where(Example.dataset_id == dataset_id, Example.status != ExampleStatus.EXCLUDED)
        .order_by(Example.id)
        .execution_options(yield_per=2000)
    )
    for example in session.scalars(query):
        columns = uploads.get(example.upload_id) if example.upload_id else None
        draft = examples.draft_of(example, columns)
        loaded.drafts.append(draft)
        loaded.stored[draft.ref] = Stored(
            example.id, example.upload_id, example.revision, example.status, list(example.issues)
        )
        session.expunge(example)
    return loaded


def findings_by_ref(found: Iterable[Finding]) -> dict[RowRef, list[dict[str, Any]]]:
    grouped: dict[RowRef, list[dict[str, Any]]] = defaultdict(list)
    for finding in found:
        grouped[finding.ref].append(finding.to_dict())
    return grouped


def _canonical(issues: Sequence[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(issue, sort_keys=True, ensure_ascii=False) for issue in issues)


def next_status(status: str, errors: int) -> str:
    """Draft while an example has errors, pending (the review queue) once it has none. Other
    states (approved, rejected, excluded) belong to review and are left alone."""
    if status == ExampleStatus.DRAFT and errors == 0:
        return ExampleStatus.PENDING
    if status == ExampleStatus.PENDING and errors > 0:
        return ExampleStatus.DRAFT
    return status


def _unindexed(session: Session, dataset_id: int, loaded: Loaded) -> list[int]:
    """Examples with findings but no index rows: written by another part of TuneDesk without
    going through :func:`app.datasets.examples.edit` (the recheck puts them in the index)."""
    indexed = set(
        session.scalars(
            select(DatasetFinding.example_id)
            .where(DatasetFinding.dataset_id == dataset_id, DatasetFinding.example_id.is_not(None))
            .distinct()
        )
    )
    return [s.id for s in loaded.stored.values() if s.issues and s.id not in indexed]


def apply(session: Session, *, dataset_id: int, loaded: Loaded, report: CheckReport) -> int:
    """Write changed findings of the loaded examples; returns how many examples changed."""
    grouped = findings_by_ref(report.findings)
    changed_ids: list[int] = _unindexed(session, dataset_id, loaded)
    now = utcnow()
    for ref, stored in loaded.stored.items():
        # What reading the file said (a number in a text column…) cannot be seen again in the
        # database: it stays until the example is edited.
        issues = grouped.get(ref, []) + [i for i in stored.issues if examples.is_reader_finding(i)]
        if _canonical(issues) == _canonical(stored.issues):
            continue
        errors = sum(1 for issue in issues if issue["severity"] == "error")
        status = next_status(stored.status, errors)
        values: dict[str, Any] = {
            "issues": issues,
            "error_count": errors,
            "warning_count": len(issues) - errors,
            "status": status,
        }
        if status == ExampleStatus.PENDING and stored.status != status:
            values["submitted_at"] = now
        result = session.execute(
            update(Example)
            .where(Example.id == stored.id, Example.revision == stored.revision)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if rows_affected(result):
            changed_ids.append(stored.id)
    changed_ids = list(dict.fromkeys(changed_ids))
    for start in range(0, len(changed_ids), 500):
        chunk = changed_ids[start : start + 500]
        session.flush()
        fresh = list(session.scalars(select(Example).where(Example.id.in_(chunk))))
        finding_index.sync_examples(session, fresh)
    return len(changed_ids)


def recheck_dataset(dataset_id: int) -> str:
    """The task's work: take the lock, check every active example, write what changed."""
    with task_session() as session:
        dataset = session.get(Dataset, dataset_id)
        if dataset is None:
            return "gone"
        if dataset.check_done >= dataset.check_requested:
            if dataset.check_status == CheckStatus.PENDING:
                dataset.check_status = CheckStatus.CURRENT
            return "current"
        generation = check_status.acquire(session, dataset_id=dataset_id)
        if generation is None:
            return "busy"  # the holder re-sends the task when it sees newer changes
        options = options_for(dataset)
    try:
        with task_session() as session:
            loaded = load_active(session, dataset_id=dataset_id)
            report = check_examples(loaded.drafts, options=options)
            changed = apply(session, dataset_id=dataset_id, loaded=loaded, report=report)
            dataset = session.get(Dataset, dataset_id)
            if dataset is not None:
                summary.store(session, dataset, generation=generation)
            check_status.release(session, dataset_id=dataset_id, generation=generation)
    except Exception:
        logger.exception("rechecking dataset %s failed", dataset_id)
        with task_session() as session:
            check_status.abandon(session, dataset_id=dataset_id)
        raise
    return f"checked {len(loaded.drafts)} examples, {changed} changed"
