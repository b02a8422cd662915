"""An example's full history: every revision (who, when, what changed, as diffs) and every review
decision, as one timeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.models import Example, ExampleRevision
from app.evaluations.scoring.diff import Segment, diff_segments
from app.i18n import N_
from app.review.models import ReviewDecision

# Labels of ExampleRevision.kind (shared with the intake, which writes some of them).
REVISION_KINDS: dict[str, str] = {
    "create": N_("Created"),
    "edit": N_("Edited"),
    "redact": N_("Removed personal data"),
    "resolve_conflict": N_("Resolved a conflict"),
    "review_edit": N_("Edited during review"),
    "resubmit": N_("Fixed and resubmitted"),
    "split_change": N_("Changed the split"),
}


@dataclass(frozen=True)
class FieldChange:
    label: str  # marked with N_ (translated in the template)
    segments: list[Segment]  # delete = before only, insert = after only
    before: str
    after: str


@dataclass
class Entry:
    at: datetime
    kind: str  # revision kind, or "approve" / "reject"
    actor: str
    revision: int
    note: str = ""
    changes: list[FieldChange] = field(default_factory=list)
    final: bool = False


def _turn_label(turns: Sequence[Mapping[str, str]], index: int) -> str:
    role = turns[index].get("role") if index < len(turns) else "model"
    return N_("Question") if role == "user" else N_("Answer")


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[FieldChange]:
    """What changed between two snapshots ``{system_instruction, turns, tag, split}``."""
    changes: list[FieldChange] = []
    old_system = str(before.get("system_instruction") or "")
    new_system = str(after.get("system_instruction") or "")
    if old_system != new_system:
        changes.append(
            FieldChange(
                N_("System instruction"),
                diff_segments(old_system, new_system),
                old_system,
                new_system,
            )
        )
    old_turns = list(before.get("turns") or [])
    new_turns = list(after.get("turns") or [])
    for index in range(max(len(old_turns), len(new_turns))):
        old = old_turns[index]["text"] if index < len(old_turns) else ""
        new = new_turns[index]["text"] if index < len(new_turns) else ""
        if old != new:
            label = _turn_label(new_turns or old_turns, index)
            changes.append(FieldChange(label, diff_segments(old, new), old, new))
    for key, label in (("tag", N_("Tag")), ("split", N_("Split"))):
        old_value = str(before.get(key) or "")
        new_value = str(after.get(key) or "")
        if old_value != new_value:
            changes.append(FieldChange(label, [], old_value, new_value))
    return changes


def timeline(session: Session, *, example: Example) -> list[Entry]:
    """Revisions and decisions, oldest first."""
    revisions = list(
        session.scalars(
            select(ExampleRevision)
            .where(ExampleRevision.example_id == example.id)
            .order_by(ExampleRevision.revision)
        )
    )
    decisions = list(
        session.scalars(
            select(ReviewDecision)
            .where(ReviewDecision.example_id == example.id)
            .order_by(ReviewDecision.id)
        )
    )
    people = {r.actor_id for r in revisions} | {d.reviewer_id for d in decisions}
    names: dict[int | None, str] = dict(
        session.execute(select(User.id, User.name).where(User.id.in_(people - {None}))).all()
    )
    entries: list[Entry] = []
    for revision in revisions:
        entries.append(
            Entry(
                at=revision.created_at,
                kind=revision.kind,
                actor=names.get(revision.actor_id, ""),
                revision=revision.revision,
                note=revision.note,
                changes=field_changes(revision.before, revision.after),
            )
        )
    for decision in decisions:
        entries.append(
            Entry(
                at=decision.created_at,
                kind=decision.decision,
                actor=names.get(decision.reviewer_id, ""),
                revision=decision.revision,
                note=decision.reason,
                final=decision.final,
            )
        )
    return sorted(entries, key=lambda entry: entry.at)


def last_rejection(session: Session, *, example_id: int) -> tuple[ReviewDecision, str] | None:
    """The decision that returned the example to its author, with the reviewer's name."""
    row = session.execute(
        select(ReviewDecision, User.name)
        .outerjoin(User, User.id == ReviewDecision.reviewer_id)
        .where(ReviewDecision.example_id == example_id, ReviewDecision.decision == "reject")
        .order_by(ReviewDecision.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1] or "") if row else None
