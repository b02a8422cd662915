"""The dataset's change log: who changed what, when, and the state before and after.

Every intake action writes here (content edits also write the example's own revision through
:mod:`app.datasets.editing.examples`). A redaction is the one exception to "keep everything": the
personal data it removes is masked in the example's earlier revisions and log entries too, so the
original is not kept anywhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.editing import examples
from app.datasets.models import Dataset, DatasetChange, Example, ExampleRevision
from app.db import utcnow
from app.i18n import N_, gettext

ACTION_LABELS: dict[str, str] = {
    "upload": N_("Imported a file"),
    "edit": N_("Edited"),
    "redact": N_("Redacted personal data"),
    "resolve_conflict": N_("Resolved a conflict"),
    "exclude": N_("Excluded"),
    "include": N_("Included again"),
    "keep_one": N_("Kept one of a duplicate group"),
    "dismiss_row": N_("Ignored an unreadable row"),
    "settings": N_("Changed the check settings"),
}
MASK = "•"
# Why a change was made, stored as a code (shown in the reader's language).
WHY_TEXTS: dict[str, str] = {
    "kept_row": N_("Row %(row)s of the group was kept."),
    "right_answer": N_("The answer of row %(row)s was chosen as the right one."),
    "bulk_errors": N_("Every row with errors was excluded at once."),
    "bulk_first": N_("The first row of every duplicate group was kept."),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return gettext(label) if label else action


def why_text(why: Mapping[str, Any] | None) -> str:
    if not why or why.get("code") not in WHY_TEXTS:
        return ""
    try:
        return gettext(WHY_TEXTS[str(why["code"])]) % dict(why)
    except (KeyError, TypeError, ValueError):
        return gettext(WHY_TEXTS[str(why["code"])])


def new_batch() -> str:
    """An id shared by the entries of one bulk action."""
    return uuid.uuid4().hex


def state(example: Example) -> dict[str, Any]:
    """An example's content and status, as the log shows it."""
    return {**examples.snapshot(example), "status": example.status}


def record(
    session: Session,
    *,
    dataset: Dataset,
    actor: User | None,
    action: str,
    example: Example | None = None,
    upload_id: int | None = None,
    row: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    note: str = "",
    batch: str | None = None,
) -> DatasetChange:
    change = DatasetChange(
        dataset_id=dataset.id,
        example_id=example.id if example else None,
        upload_id=upload_id if upload_id is not None else (example.upload_id if example else None),
        row=example.source_row if example else row,
        actor_id=actor.id if actor else None,
        action=action,
        batch=batch,
        note=note.strip()[:2000],
        before=dict(before or {}),
        after=dict(after or {}),
    )
    session.add(change)
    return change


def record_many(
    session: Session,
    *,
    dataset: Dataset,
    actor: User | None,
    action: str,
    entries: Iterable[tuple[Example, Mapping[str, Any], Mapping[str, Any]]],
    batch: str | None = None,
) -> int:
    """One log entry per (example, before, after), in one statement (bulk actions)."""
    now = utcnow()
    rows = [
        {
            "dataset_id": dataset.id,
            "example_id": example.id,
            "upload_id": example.upload_id,
            "row": example.source_row,
            "actor_id": actor.id if actor else None,
            "action": action,
            "batch": batch,
            "note": "",
            "before": dict(before),
            "after": dict(after),
            "created_at": now,
        }
        for example, before, after in entries
    ]
    if rows:
        session.execute(insert(DatasetChange), rows)
    return len(rows)


def masked(original: str) -> str:
    """What stays of redacted personal data in the history: its place and length, no content."""
    return MASK * len(original)


def _mask_value(value: Any, originals: Sequence[str]) -> Any:
    if isinstance(value, str):
        for original in originals:
            value = value.replace(original, masked(original))
        return value
    if isinstance(value, list):
        return [_mask_value(item, originals) for item in value]
    if isinstance(value, dict):
        return {key: _mask_value(item, originals) for key, item in value.items()}
    return value


def scrub(session: Session, *, example_id: int, originals: Sequence[str]) -> None:
    """Mask ``originals`` in every revision and log entry of an example."""
    wanted = sorted({text for text in originals if text}, key=len, reverse=True)
    if not wanted:
        return
    for revision in session.scalars(
        select(ExampleRevision).where(ExampleRevision.example_id == example_id)
    ):
        revision.before = _mask_value(revision.before, wanted)
        revision.after = _mask_value(revision.after, wanted)
    for change in session.scalars(
        select(DatasetChange).where(DatasetChange.example_id == example_id)
    ):
        change.before = _mask_value(change.before, wanted)
        change.after = _mask_value(change.after, wanted)


@dataclass(frozen=True)
class ChangePage:
    rows: list[tuple[DatasetChange, str | None]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def browse(session: Session, *, dataset_id: int, page: int = 1, per_page: int = 30) -> ChangePage:
    """The log, newest first, with the actor's name."""
    page = max(1, page)
    total = (
        session.scalar(
            select(func.count())
            .select_from(DatasetChange)
            .where(DatasetChange.dataset_id == dataset_id)
        )
        or 0
    )
    rows = session.execute(
        select(DatasetChange, User.name)
        .outerjoin(User, User.id == DatasetChange.actor_id)
        .where(DatasetChange.dataset_id == dataset_id)
        .order_by(DatasetChange.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return ChangePage([(change, name) for change, name in rows], total, page, per_page)


@dataclass(frozen=True)
class FieldDiff:
    label: str
    before: str | None  # None: the field did not exist before (shown as added)
    after: str | None
    long: bool = False  # a text shown as blocks, not inline


def _shown(key: str, value: Any) -> str:
    from app.datasets.quality import labels

    if value is None or value == "":
        return "—"
    if key == "status":
        return labels.status_label(str(value))
    if key == "split":
        return labels.split_label(str(value))
    if isinstance(value, bool):
        return gettext(N_("yes")) if value else gettext(N_("no"))
    return str(value)


FIELD_LABELS = {
    "status": N_("Status"),
    "system_instruction": N_("System instruction"),
    "tag": N_("Tag"),
    "split": N_("Split"),
    "name": N_("Name"),
    "description": N_("Description"),
    "threshold": N_("Near-duplicate similarity"),
    "file": N_("File"),
    "code": N_("Problem"),
    "dismissed": N_("Ignored"),
}


def _turn_label(role: str, index: int, count: int) -> str:
    if count == 2:
        return gettext(N_("Question")) if role == "user" else gettext(N_("Answer"))
    return gettext(N_("Turn %(n)s")) % {"n": index + 1}


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[FieldDiff]:
    """What a log entry changed, field by field, for people."""
    result: list[FieldDiff] = []
    for key in [*before, *(k for k in after if k not in before)]:
        if key in ("turns", "mapping", "row", "why") or before.get(key) == after.get(key):
            continue
        label = gettext(FIELD_LABELS[key]) if key in FIELD_LABELS else key
        old = _shown(key, before[key]) if key in before else None
        new = _shown(key, after[key]) if key in after else None
        result.append(FieldDiff(label, old, new, long=key in ("system_instruction", "description")))
    old_turns, new_turns = before.get("turns") or [], after.get("turns") or []
    for index in range(max(len(old_turns), len(new_turns))):
        old_turn = old_turns[index] if index < len(old_turns) else {}
        new_turn = new_turns[index] if index < len(new_turns) else {}
        if old_turn == new_turn:
            continue
        role = str(new_turn.get("role") or old_turn.get("role") or "")
        result.append(
            FieldDiff(
                _turn_label(role, index, len(new_turns)),
                str(old_turn.get("text", "")) if "turns" in before else None,
                str(new_turn.get("text", "")),
                long=True,
            )
        )
    return result
