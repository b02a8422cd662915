"""What changed between two versions of a dataset: examples added, removed, and changed (with
their changes). Computed from the frozen rows, so it never depends on today's examples."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.datasets.editing.field_changes import FieldChange, field_changes
from app.datasets.versions.models import DatasetVersion, DatasetVersionExample

LISTED = 50  # examples listed per group; the counts are always complete


@dataclass(frozen=True)
class Changed:
    old: DatasetVersionExample
    new: DatasetVersionExample
    changes: list[FieldChange]


@dataclass
class VersionDiff:
    previous: DatasetVersion | None
    added: list[DatasetVersionExample] = field(default_factory=list)
    removed: list[DatasetVersionExample] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"added": 0, "removed": 0, "changed": 0})

    @property
    def empty(self) -> bool:
        return not any(self.counts.values())


def previous_version(session: Session, version: DatasetVersion) -> DatasetVersion | None:
    return session.scalar(
        select(DatasetVersion)
        .where(
            DatasetVersion.dataset_id == version.dataset_id,
            DatasetVersion.number < version.number,
        )
        .order_by(DatasetVersion.number.desc())
        .limit(1)
    )


def _only_in(first_id: int, second_id: int) -> Select[DatasetVersionExample]:
    """Rows of version ``first_id`` whose example is not in version ``second_id``."""
    mine, theirs = aliased(DatasetVersionExample), aliased(DatasetVersionExample)
    return (
        select(mine)
        .outerjoin(
            theirs, and_(theirs.version_id == second_id, theirs.example_id == mine.example_id)
        )
        .where(mine.version_id == first_id, theirs.example_id.is_(None))
        .order_by(mine.example_id)
    )


def _count(session: Session, query: Select[Any, Any] | Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _snapshot(row: DatasetVersionExample) -> dict[str, Any]:
    return {**row.content, "split": row.split}


def diff_versions(
    session: Session, *, version: DatasetVersion, previous: DatasetVersion | None
) -> VersionDiff:
    """``version`` compared with ``previous`` (usually the version just before it)."""
    result = VersionDiff(previous)
    if previous is None:
        return result
    added = _only_in(version.id, previous.id)
    removed = _only_in(previous.id, version.id)
    new, old = aliased(DatasetVersionExample), aliased(DatasetVersionExample)
    changed = (
        select(new, old)
        .join(old, and_(old.version_id == previous.id, old.example_id == new.example_id))
        .where(
            new.version_id == version.id,
            or_(
                new.revision != old.revision,
                new.split != old.split,
                new.content_hash != old.content_hash,
            ),
        )
    )
    result.counts = {
        "added": _count(session, added),
        "removed": _count(session, removed),
        "changed": _count(session, changed),
    }
    result.added = list(session.scalars(added.limit(LISTED)))
    result.removed = list(session.scalars(removed.limit(LISTED)))
    for new_row, old_row in session.execute(changed.order_by(new.example_id).limit(LISTED)):
        result.changed.append(
            Changed(old_row, new_row, field_changes(_snapshot(old_row), _snapshot(new_row)))
        )
    return result
