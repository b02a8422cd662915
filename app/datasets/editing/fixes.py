"""Fixing rows from the report: edit, exclude or include, keep one of a duplicate group, ignore an
unreadable row (conflicts: :mod:`app.datasets.editing.conflicts`; personal data:
:mod:`app.datasets.editing.redaction`; bulk versions: :mod:`app.datasets.editing.bulk`).

Every fix is recorded in the change log (who, when, before and after) and the audit log. Content
goes through :func:`app.datasets.examples.edit` (revision + re-check). Relations that a fix ends
(a duplicate of an excluded row, a conflict that was settled) are removed at once, so the report
shows the result immediately; the dataset-wide recheck then confirms everything in the
background.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import User
from app.datasets.checking import check_status, finding_index
from app.datasets.checking.relations import drop_relations, examples_by_refs, related_refs
from app.datasets.editing import change_log, examples
from app.datasets.models import Dataset, DatasetFinding, Example, ExampleStatus
from app.datasets.quality.labels import DUPLICATE_CODES, RELATION_CODES
from app.db import utcnow
from app.errors import Conflict, NotFound
from app.i18n import N_, _

AUDIT_ACTIONS = {
    "dataset.create": N_("Created dataset"),
    "dataset.update": N_("Changed dataset settings"),
    "dataset.upload": N_("Uploaded a file"),
    "dataset.upload_settings": N_("Changed the settings of an uploaded file"),
    "dataset.import": N_("Imported a file"),
    "dataset.discard_upload": N_("Dropped an uploaded file"),
    "dataset.load_sample": N_("Loaded a sample dataset"),
    "dataset.edit_example": N_("Edited an example"),
    "dataset.exclude": N_("Excluded examples"),
    "dataset.include": N_("Included examples again"),
    "dataset.keep_one": N_("Kept one of a duplicate group"),
    "dataset.resolve_conflict": N_("Resolved a conflict"),
    "dataset.redact": N_("Redacted personal data"),
    "dataset.dismiss_row": N_("Ignored an unreadable row"),
    "dataset.bulk_exclude_errors": N_("Excluded every row with errors"),
    "dataset.bulk_keep_first": N_("Kept the first of every duplicate group"),
    "dataset.bulk_redact": N_("Redacted all personal data"),
}


def get_example(session: Session, dataset: Dataset, example_id: int) -> Example:
    example = session.get(Example, example_id)
    if example is None or example.dataset_id != dataset.id:
        raise NotFound(_("This row does not exist in this dataset (any more)."))
    return example


def audit_action(
    session: Session, actor: User, dataset: Dataset, action: str, count: int, **details: Any
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        object_type="dataset",
        object_id=dataset.id,
        project_id=dataset.project_id,
        summary=f"{dataset.name}: {count}",
        details={"count": count, **details},
    )


def settle_status(example: Example) -> None:
    """After a change of content: errors keep it a draft, otherwise it goes (back) to review."""
    if example.status == ExampleStatus.EXCLUDED:
        return
    status = ExampleStatus.DRAFT if example.error_count else ExampleStatus.PENDING
    if status == ExampleStatus.PENDING and example.status != status:
        example.submitted_at = utcnow()
    example.status = status


def apply_edit(
    session: Session,
    *,
    actor: User,
    dataset: Dataset,
    example: Example,
    change: examples.Change,
    kind: str = "edit",
    why: dict[str, Any] | None = None,
    batch: str | None = None,
) -> bool:
    """Change an example's content (recorded, re-checked). False when nothing changed.
    ``why`` says in codes why it changed (see :func:`app.datasets.changes.why_text`)."""
    before = change_log.state(example)
    note = change_log.why_text(why) if why else ""
    revision = examples.edit(
        session, example=example, actor=actor, change=change, kind=kind, note=note
    )
    if revision is None:
        return False
    settle_status(example)
    finding_index.sync_example(session, example)
    change_log.record(
        session,
        dataset=dataset,
        actor=actor,
        action=kind,
        example=example,
        before=before,
        after={**change_log.state(example), **({"why": why} if why else {})},
        batch=batch,
    )
    return True


def edit(
    session: Session, *, actor: User, dataset: Dataset, example: Example, change: examples.Change
) -> bool:
    changed = apply_edit(session, actor=actor, dataset=dataset, example=example, change=change)
    if changed:
        audit_action(session, actor, dataset, "dataset.edit_example", 1, example=example.id)
    return changed


# --- exclude, include, keep one ----------------------------------------------------------------


def set_excluded(
    session: Session,
    *,
    actor: User,
    dataset: Dataset,
    rows: Sequence[Example],
    action: str = "exclude",
    why: dict[str, Any] | None = None,
    batch: str | None = None,
) -> int:
    """Exclude rows (recorded); their relations to other rows end."""
    targets = [row for row in rows if row.status != ExampleStatus.EXCLUDED]
    entries = []
    for row in targets:
        before = {"status": row.status}
        row.status = ExampleStatus.EXCLUDED
        entries.append((row, before, {"status": row.status, **({"why": why} if why else {})}))
    session.flush()
    change_log.record_many(
        session,
        dataset=dataset,
        actor=actor,
        action=action,
        entries=entries,
        batch=batch,
    )
    if targets:
        drop_relations(session, dataset, targets, RELATION_CODES)
        check_status.request(session, dataset_id=dataset.id)
    return len(targets)


def exclude(session: Session, *, actor: User, dataset: Dataset, example: Example) -> int:
    count = set_excluded(session, actor=actor, dataset=dataset, rows=[example])
    audit_action(session, actor, dataset, "dataset.exclude", count, example=example.id)
    return count


def include(session: Session, *, actor: User, dataset: Dataset, example: Example) -> int:
    """Take an excluded row back; its relations come back with the recheck."""
    if example.status != ExampleStatus.EXCLUDED:
        return 0
    before = {"status": example.status}
    example.status = ExampleStatus.DRAFT if example.error_count else ExampleStatus.PENDING
    if example.status == ExampleStatus.PENDING:
        example.submitted_at = utcnow()
    change_log.record(
        session,
        dataset=dataset,
        actor=actor,
        action="include",
        example=example,
        before=before,
        after={"status": example.status},
    )
    check_status.request(session, dataset_id=dataset.id)
    audit_action(session, actor, dataset, "dataset.include", 1, example=example.id)
    return 1


def duplicate_group(session: Session, dataset: Dataset, example: Example) -> list[Example]:
    """The example and every active row its duplicate findings name (exact and near)."""
    others = examples_by_refs(session, dataset.id, related_refs(example, DUPLICATE_CODES))
    same = session.scalars(
        select(Example).where(
            Example.dataset_id == dataset.id,
            Example.content_hash == example.content_hash,
            Example.id != example.id,
            Example.status != ExampleStatus.EXCLUDED,
            select(DatasetFinding.id)
            .where(
                DatasetFinding.example_id == Example.id,
                DatasetFinding.code == "exact_duplicate",
            )
            .exists(),
        )
    )
    group = {e.id: e for e in [*others, *same] if e.status != ExampleStatus.EXCLUDED}
    group.pop(example.id, None)
    return [example, *sorted(group.values(), key=lambda e: e.id)]


def keep_one(session: Session, *, actor: User, dataset: Dataset, example: Example) -> int:
    """Keep this row of its duplicate group; exclude the others."""
    if example.status == ExampleStatus.EXCLUDED:
        raise Conflict(_("This row is excluded. Include it again before keeping it."))
    group = duplicate_group(session, dataset, example)
    others = group[1:]
    if not others:
        raise Conflict(_("This row has no duplicates left."))
    batch = change_log.new_batch()
    why = {"code": "kept_row", "row": example.source_row or example.id}
    count = set_excluded(
        session,
        actor=actor,
        dataset=dataset,
        rows=others,
        action="keep_one",
        why=why,
        batch=batch,
    )
    audit_action(session, actor, dataset, "dataset.keep_one", count, kept=example.id)
    return count


# --- unreadable rows ---------------------------------------------------------------------------


def dismiss_row(session: Session, *, actor: User, dataset: Dataset, finding_id: int) -> None:
    """Ignore a row that could not be read (it stops counting as an error)."""
    found = session.get(DatasetFinding, finding_id)
    if found is None or found.dataset_id != dataset.id or found.example_id is not None:
        raise NotFound(_("This row does not exist in this dataset (any more)."))
    same_row = session.scalars(
        select(DatasetFinding).where(
            DatasetFinding.upload_id == found.upload_id,
            DatasetFinding.row == found.row,
            DatasetFinding.example_id.is_(None),
            DatasetFinding.dismissed_at.is_(None),
        )
    )
    now = utcnow()
    for item in same_row:
        item.dismissed_at = now
    change_log.record(
        session,
        dataset=dataset,
        actor=actor,
        action="dismiss_row",
        upload_id=found.upload_id,
        row=found.row,
        before={"code": found.code, "row": found.row},
        after={"dismissed": True},
    )
    audit_action(session, actor, dataset, "dataset.dismiss_row", 1, row=found.row)
