"""What the review pages show, gathered in one place so routes stay HTTP-only and templates
never query."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.models import Dataset, Example, ExampleStatus, Upload
from app.projects.service import ProjectContext
from app.review import findings_view, history, progress, queue
from app.review.decisions import conflicting_approved
from app.review.models import Decision, ReviewDecision
from app.review.settings import Rules, rules_for


@dataclass(frozen=True)
class Source:
    dataset: str
    upload: str | None
    row: int | None
    author: str


def source_of(session: Session, example: Example) -> Source:
    dataset = session.get(Dataset, example.dataset_id)
    upload = session.get(Upload, example.upload_id) if example.upload_id else None
    author = session.get(User, example.author_id) if example.author_id else None
    return Source(
        dataset=dataset.name if dataset else "",
        upload=upload.file_name if upload else None,
        row=example.source_row,
        author=author.name if author else "",
    )


@dataclass(frozen=True)
class Approval:
    name: str
    mine: bool


def approvals_of(session: Session, example: Example, viewer: User) -> list[Approval]:
    rows = session.execute(
        select(ReviewDecision.reviewer_id, User.name)
        .outerjoin(User, User.id == ReviewDecision.reviewer_id)
        .where(
            ReviewDecision.example_id == example.id,
            ReviewDecision.revision == example.revision,
            ReviewDecision.decision == Decision.APPROVE,
        )
        .order_by(ReviewDecision.id)
    ).all()
    return [Approval(name or "", reviewer_id == viewer.id) for reviewer_id, name in rows]


@dataclass(frozen=True)
class Conflicting:
    example: Example
    author: str


def conflicts_for(session: Session, example: Example) -> list[Conflicting]:
    ids = conflicting_approved(session, example)
    if not ids:
        return []
    rows = session.execute(
        select(Example, User.name)
        .outerjoin(User, User.id == Example.author_id)
        .where(Example.id.in_(ids))
        .order_by(Example.id)
    ).all()
    return [Conflicting(other, name or "") for other, name in rows]


@dataclass
class CardView:
    """Everything the card shows about one example, for one reviewer."""

    example: Example
    rules: Rules
    source: Source
    turns: list[findings_view.TurnView]
    system: findings_view.TurnView | None
    findings: list[findings_view.FindingView]
    approvals: list[Approval]
    conflicts: list[Conflicting]
    holder: queue.Holder | None
    returned: tuple[ReviewDecision, str] | None
    previous_id: int | None
    next_id: int | None
    my_day: progress.MyDay
    is_author: bool
    errors: dict[str, str] = field(default_factory=dict)
    form: dict[str, Any] = field(default_factory=dict)

    @property
    def decidable(self) -> bool:
        return (
            self.example.status == ExampleStatus.PENDING
            and not self.is_author
            and not any(a.mine for a in self.approvals)
        )


def card_view(
    session: Session, ctx: ProjectContext, example: Example, *, lease: bool = True
) -> CardView:
    rules = rules_for(session, ctx.project.id)
    holder = (
        queue.renew_lease_for_view(session, example=example, reviewer=ctx.user, rules=rules)
        if lease
        else None
    )
    turns, system = findings_view.highlighted(example)
    return CardView(
        example=example,
        rules=rules,
        source=source_of(session, example),
        turns=turns,
        system=system,
        findings=findings_view.findings_of(example),
        approvals=approvals_of(session, example, ctx.user),
        conflicts=conflicts_for(session, example),
        holder=holder,
        returned=history.last_rejection(session, example_id=example.id),
        previous_id=queue.previous_id(
            session, project_id=ctx.project.id, reviewer=ctx.user, rules=rules, before=example.id
        ),
        next_id=queue.next_id(
            session,
            project_id=ctx.project.id,
            reviewer=ctx.user,
            rules=rules,
            after=example.id,
            exclude=[example.id],
        ),
        my_day=progress.my_day(session, project_id=ctx.project.id, reviewer=ctx.user, rules=rules),
        is_author=example.author_id is not None and example.author_id == ctx.user.id,
    )
