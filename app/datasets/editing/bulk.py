"""Bulk fixes of the report: exclude every row with errors, keep the first row of every
exact-duplicate group, redact all personal data. One change-log batch per action."""

from __future__ import annotations

from sqlalchemy import Exists, select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.editing import change_log, fixes, redaction
from app.datasets.models import Dataset, DatasetFinding, Example, ExampleStatus
from app.datasets.quality.labels import PII_CODES

ACTIVE = Example.status != ExampleStatus.EXCLUDED


def _with_code(*codes: str) -> Exists:
    return (
        select(DatasetFinding.id)
        .where(DatasetFinding.example_id == Example.id, DatasetFinding.code.in_(codes))
        .exists()
    )


def rows_with_errors(session: Session, dataset: Dataset) -> list[Example]:
    return list(
        session.scalars(
            select(Example)
            .where(Example.dataset_id == dataset.id, ACTIVE, Example.error_count > 0)
            .order_by(Example.id)
        )
    )


def exclude_errors(session: Session, *, actor: User, dataset: Dataset) -> int:
    """Exclude every row that still has an error."""
    rows = rows_with_errors(session, dataset)
    count = fixes.set_excluded(
        session,
        actor=actor,
        dataset=dataset,
        rows=rows,
        batch=change_log.new_batch(),
        why={"code": "bulk_errors"},
    )
    fixes.audit_action(session, actor, dataset, "dataset.bulk_exclude_errors", count)
    return count


def exact_groups(session: Session, dataset: Dataset) -> list[list[Example]]:
    """Active rows with an exact-duplicate finding, grouped by content, in file order."""
    rows = session.scalars(
        select(Example)
        .where(Example.dataset_id == dataset.id, ACTIVE, _with_code("exact_duplicate"))
        .order_by(Example.upload_id, Example.source_row, Example.id)
    )
    groups: dict[str, list[Example]] = {}
    for row in rows:
        groups.setdefault(row.content_hash, []).append(row)
    return [group for group in groups.values() if len(group) > 1]


def keep_first_duplicates(session: Session, *, actor: User, dataset: Dataset) -> int:
    """In every exact-duplicate group keep the first row (in file order), exclude the others."""
    extra = [row for group in exact_groups(session, dataset) for row in group[1:]]
    count = fixes.set_excluded(
        session,
        actor=actor,
        dataset=dataset,
        rows=extra,
        action="keep_one",
        batch=change_log.new_batch(),
        why={"code": "bulk_first"},
    )
    fixes.audit_action(session, actor, dataset, "dataset.bulk_keep_first", count)
    return count


def redact_all(session: Session, *, actor: User, dataset: Dataset) -> int:
    """Redact the personal data of every active row that has some."""
    rows = session.scalars(
        select(Example)
        .where(Example.dataset_id == dataset.id, ACTIVE, _with_code(*PII_CODES))
        .order_by(Example.id)
    )
    batch = change_log.new_batch()
    total = 0
    for row in list(rows):
        total += redaction.apply_redaction(
            session, actor=actor, dataset=dataset, example=row, batch=batch
        )
    fixes.audit_action(session, actor, dataset, "dataset.bulk_redact", total)
    return total
