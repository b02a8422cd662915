"""Approving and rejecting examples: compare-and-set, required approvals, conflicts, bulk.

Every decision starts with a compare-and-set on the example row (``status = pending`` and the
revision the reviewer saw). That statement also takes the row's write lock (PostgreSQL row lock,
SQLite database write lock) until the request commits, so deciders of one example run one after
the other: the second one finds the status or the revision moved and gets a message saying who
decided, never a lost or double decision. Approvals are counted after the lock is held, so two
reviewers approving at once with two approvals required both count exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import User
from app.datasets.models import Example, ExampleStatus
from app.db import rows_affected, utcnow
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.i18n import N_, _
from app.notifications import service as notifications
from app.notifications.service import Kind
from app.projects.models import Project
from app.review import labels, queue
from app.review.models import Decision, ReviewDecision
from app.review.settings import Rules, rules_for

AUDIT_ACTIONS = {
    "example.approve": N_("Approved example"),
    "example.reject": N_("Returned example to its author"),
}
NOTIFICATION_KINDS = {
    "review.returned": Kind(
        title=N_("An example was returned to you"),
        body=N_("%(by)s returned example #%(example)s in %(project)s: %(reason)s"),
    ),
    "review.returned_conflict": Kind(
        title=N_("An example was returned to you"),
        body=N_(
            "%(by)s kept the answer of example #%(kept)s in %(project)s and returned your "
            "example #%(example)s, which asks the same thing with a different answer. Make it "
            "consistent with #%(kept)s, or delete it."
        ),
    ),
}

MAX_REASON = 2000


class ConflictingAnswers(Conflict):
    """Approving would put a second, different answer to the same input into training."""

    def __init__(self, message: str, conflicting_ids: list[int]) -> None:
        super().__init__(message)
        self.conflicting_ids = conflicting_ids


@dataclass(frozen=True)
class Outcome:
    example_id: int
    status: str  # the example's status after the decision
    approvals: int  # approvals of the current revision, this one included
    required: int


def get_example(session: Session, *, project_id: int, example_id: int) -> Example:
    example = session.get(Example, example_id)
    if example is None or example.project_id != project_id:
        raise NotFound(_("This example does not exist in this project."))
    return example


def check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(
            {"reason": _("Say why the example is returned, so its author knows what to fix.")}
        )
    if len(reason) > MAX_REASON:
        raise ValidationFailed(
            {"reason": _("Keep the reason under %(n)s characters.") % {"n": MAX_REASON}}
        )
    return reason


def _last_final(session: Session, example_id: int) -> tuple[ReviewDecision, str] | None:
    row = session.execute(
        select(ReviewDecision, func.coalesce(User.name, ""))
        .outerjoin(User, User.id == ReviewDecision.reviewer_id)
        .where(ReviewDecision.example_id == example_id, ReviewDecision.final.is_(True))
        .order_by(ReviewDecision.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def _lost_race(session: Session, example_id: int, revision: int) -> Conflict:
    """The message for a decision whose compare-and-set found the example moved on."""
    status, current = session.execute(
        select(Example.status, Example.revision).where(Example.id == example_id)
    ).one()
    last = _last_final(session, example_id)
    who = last[1] if last else _("another reviewer")
    if current != revision:
        return Conflict(
            _(
                "This example was changed after you opened it. Read the new version and "
                "decide again."
            )
        )
    if status == ExampleStatus.APPROVED:
        return Conflict(
            _("%(name)s approved this example just before you. Nothing more to do here.")
            % {"name": who}
        )
    if status == ExampleStatus.REJECTED:
        return Conflict(
            _(
                "%(name)s returned this example to its author just before you. It comes back "
                "to the queue when it is fixed."
            )
            % {"name": who}
        )
    return Conflict(_("This example is no longer waiting for review."))


def _lock_pending(session: Session, example_id: int, revision: int) -> None:
    """Compare-and-set: the example is still pending at ``revision``; holds its lock."""
    result = session.execute(
        update(Example)
        .where(
            Example.id == example_id,
            Example.status == ExampleStatus.PENDING,
            Example.revision == revision,
        )
        # A write that changes nothing (updated_at is named so it is not bumped) but locks.
        .values(status=ExampleStatus.PENDING, updated_at=Example.updated_at)
        .execution_options(synchronize_session=False)
    )
    if rows_affected(result) != 1:
        raise _lost_race(session, example_id, revision)


def _approvers(session: Session, example_id: int, revision: int) -> list[int | None]:
    return list(
        session.scalars(
            select(ReviewDecision.reviewer_id).where(
                ReviewDecision.example_id == example_id,
                ReviewDecision.revision == revision,
                ReviewDecision.decision == Decision.APPROVE,
            )
        )
    )


def conflicting_approved(session: Session, example: Example) -> list[int]:
    """Approved examples of the same dataset with the same input but a different answer."""
    if not example.prompt_hash:
        return []
    return list(
        session.scalars(
            select(Example.id)
            .where(
                Example.dataset_id == example.dataset_id,
                Example.prompt_hash == example.prompt_hash,
                Example.content_hash != example.content_hash,
                Example.status == ExampleStatus.APPROVED,
                Example.id != example.id,
            )
            .order_by(Example.id)
            .limit(20)
        )
    )


def _refuse_second_decision(session: Session, example_id: int, revision: int, actor: User) -> None:
    """One decision per reviewer and revision (checked under the lock, before writing)."""
    earlier = session.scalar(
        select(ReviewDecision.decision).where(
            ReviewDecision.example_id == example_id,
            ReviewDecision.revision == revision,
            ReviewDecision.reviewer_id == actor.id,
        )
    )
    if earlier is not None:
        raise Conflict(_("You already approved this example. It is waiting for another reviewer."))


def _refuse_authors(example: Example, actor: User) -> None:
    if example.author_id is not None and example.author_id == actor.id:
        raise PermissionDenied(
            _("You wrote this example, so another reviewer has to decide on it.")
        )


def _record(
    session: Session,
    *,
    example: Example,
    actor: User,
    revision: int,
    decision: Decision,
    reason: str,
    final: bool,
    reason_code: str | None = None,
    reason_params: dict[str, object] | None = None,
) -> ReviewDecision:
    row = ReviewDecision(
        project_id=example.project_id,
        example_id=example.id,
        revision=revision,
        reviewer_id=actor.id,
        decision=decision,
        reason=reason,
        reason_code=reason_code,
        reason_params=reason_params or {},
        final=final,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        # The unique (example, revision, reviewer) row exists: a double submission.
        raise Conflict(_("Your decision on this example was already recorded.")) from None
    return row


def approve(
    session: Session,
    *,
    actor: User,
    project: Project,
    example_id: int,
    revision: int,
    rules: Rules | None = None,
    audit_each: bool = True,
) -> Outcome:
    """Approve the example's ``revision``; it becomes ``approved`` once enough reviewers did."""
    rules = rules or rules_for(session, project.id)
    example = get_example(session, project_id=project.id, example_id=example_id)
    _refuse_authors(example, actor)
    _lock_pending(session, example.id, revision)
    session.refresh(example)
    approvers = _approvers(session, example.id, revision)
    _refuse_second_decision(session, example.id, revision, actor)
    clashes = conflicting_approved(session, example)
    if clashes:
        raise ConflictingAnswers(
            _(
                "Another approved example asks the same thing with a different answer "
                "(#%(ids)s). Resolve the conflict before approving this one."
            )
            % {"ids": ", #".join(str(i) for i in clashes)},
            clashes,
        )
    approvals = len(approvers) + 1
    final = approvals >= rules.approvals_required
    _record(
        session,
        example=example,
        actor=actor,
        revision=revision,
        decision=Decision.APPROVE,
        reason="",
        final=final,
    )
    if final:
        example.status = ExampleStatus.APPROVED
        example.decided_at = utcnow()
        queue.release_lease(session, example_id=example.id)
        queue.clear_skips(session, example_id=example.id)
    else:
        queue.release_lease(session, example_id=example.id, reviewer_id=actor.id)
    if audit_each:
        audit.record(
            session,
            actor=actor,
            action="example.approve",
            object_type="example",
            object_id=example.id,
            project_id=project.id,
            summary=f"#{example.id} r{revision}",
            details={"approvals": approvals, "required": rules.approvals_required},
        )
    return Outcome(example.id, example.status, approvals, rules.approvals_required)


def reject(
    session: Session,
    *,
    actor: User,
    project: Project,
    example_id: int,
    revision: int,
    reason: str,
    audit_each: bool = True,
) -> Outcome:
    """Return the example to its author with a reason (they are notified, fix and resubmit)."""
    reason = check_reason(reason)
    example = get_example(session, project_id=project.id, example_id=example_id)
    _refuse_authors(example, actor)
    _lock_pending(session, example.id, revision)
    session.refresh(example)
    _refuse_second_decision(session, example.id, revision, actor)
    _record(
        session,
        example=example,
        actor=actor,
        revision=revision,
        decision=Decision.REJECT,
        reason=reason,
        final=True,
    )
    example.status = ExampleStatus.REJECTED
    example.decided_at = utcnow()
    queue.release_lease(session, example_id=example.id)
    queue.clear_skips(session, example_id=example.id)
    _notify_author(
        session,
        example=example,
        actor=actor,
        project=project,
        kind="review.returned",
        params={"reason": reason[:300]},
    )
    if audit_each:
        audit.record(
            session,
            actor=actor,
            action="example.reject",
            object_type="example",
            object_id=example.id,
            project_id=project.id,
            summary=f"#{example.id} r{revision}: {reason[:200]}",
        )
    return Outcome(example.id, example.status, 0, rules_for(session, project.id).approvals_required)


def _notify_author(
    session: Session,
    *,
    example: Example,
    actor: User,
    project: Project,
    kind: str,
    params: dict[str, object],
) -> None:
    if example.author_id is None or example.author_id == actor.id:
        return
    notifications.notify(
        session,
        user_ids=[example.author_id],
        kind=kind,
        params={"by": actor.name, "example": example.id, "project": project.name, **params},
        link=f"/projects/{project.id}/my-examples/{example.id}/edit",
        project_id=project.id,
    )


def withdraw_for_conflict(
    session: Session,
    *,
    actor: User,
    project: Project,
    approved_id: int,
    replacement_id: int,
) -> None:
    """Resolve a conflict in favour of a pending example: the approved one with the other answer
    goes back to its author (compare-and-set on ``approved``), saying which example replaces it."""
    other = get_example(session, project_id=project.id, example_id=approved_id)
    _refuse_authors(other, actor)
    result = session.execute(
        update(Example)
        .where(
            Example.id == other.id,
            Example.status == ExampleStatus.APPROVED,
            Example.revision == other.revision,
        )
        .values(status=ExampleStatus.REJECTED, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if rows_affected(result) != 1:
        raise Conflict(_("That example is no longer approved. Reload the page."))
    session.refresh(other)
    _record(
        session,
        example=other,
        actor=actor,
        revision=other.revision,
        decision=Decision.REJECT,
        reason="",
        reason_code=labels.CONFLICT_KEPT_OTHER,
        reason_params={"id": replacement_id},
        final=True,
    )
    _notify_author(
        session,
        example=other,
        actor=actor,
        project=project,
        kind="review.returned_conflict",
        params={"kept": replacement_id},
    )
    audit.record(
        session,
        actor=actor,
        action="example.reject",
        object_type="example",
        object_id=other.id,
        project_id=project.id,
        summary=f"#{other.id}: conflict resolved in favour of #{replacement_id}",
    )


def keep_answer(
    session: Session,
    *,
    actor: User,
    project: Project,
    example_id: int,
    revision: int,
    other_id: int,
) -> Outcome:
    """Settle a conflict in favour of this pending example: the approved one with the other
    answer goes back to its author, then this example is approved (or waits for its next
    approval). One unit of work: a refusal of either step undoes both."""
    withdraw_for_conflict(
        session, actor=actor, project=project, approved_id=other_id, replacement_id=example_id
    )
    return approve(session, actor=actor, project=project, example_id=example_id, revision=revision)
