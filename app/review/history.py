"""An example's full history: every revision (who, when, what changed, as diffs) and every review
decision, as one timeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.editing.field_changes import FieldChange, field_changes
from app.datasets.models import Example, ExampleRevision
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


@dataclass
class Entry:
    at: datetime
    kind: str  # revision kind, or "approve" / "reject"
    actor: str
    revision: int
    note: str = ""
    changes: list[FieldChange] = field(default_factory=list)
    final: bool = False


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
                note=decision.reason_text,
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
