"""Deciding many examples at once, each under the rules of one decision: from the table view
(a selection) and "approve all that match" (:mod:`app.review.bulk_run`, chunk by chunk).

Approving many is done in batches (``approve_many``): the same rules as
:func:`app.review.decisions.approve` — never the author, one decision per reviewer and
revision, the required number of approvals, no second answer to a question that already has an
approved one — with a handful of statements per batch instead of ten per example, so approving
100,000 examples costs the same per example at the end as at the start.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, tuple_, update
from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import User
from app.datasets.models import Example, ExampleStatus
from app.db import utcnow
from app.errors import Conflict, NotFound, PermissionDenied
from app.i18n import N_
from app.projects.models import Project
from app.review.decisions import Answer, check_reason, conflicting_approved_many, reject
from app.review.models import Decision, ReviewDecision, ReviewLease, ReviewSkip
from app.review.settings import Rules, rules_for

AUDIT_ACTIONS = {"example.bulk_decision": N_("Decided examples in bulk")}


@dataclass
class BulkResult:
    decided: list[int] = field(default_factory=list)
    own: list[int] = field(default_factory=list)  # the actor wrote them
    conflicts: list[int] = field(default_factory=list)  # approving would clash
    moved: list[int] = field(default_factory=list)  # decided or edited meanwhile
    waiting: list[int] = field(default_factory=list)  # approved by us, needs another reviewer

    @property
    def skipped(self) -> int:
        return len(self.own) + len(self.conflicts) + len(self.moved)


def parse_selection(values: Sequence[str]) -> list[tuple[int, int]]:
    """Checkbox values ``"<example id>:<revision>"`` (the revision shown when the page loaded)."""
    selected: list[tuple[int, int]] = []
    for value in values:
        example_id, _sep, revision = value.partition(":")
        if example_id.isdigit() and revision.isdigit():
            selected.append((int(example_id), int(revision)))
    return list(dict.fromkeys(selected))


def bulk_decide(
    session: Session,
    *,
    actor: User,
    project: Project,
    selection: Sequence[tuple[int, int]],
    decision: Decision,
    reason: str = "",
) -> BulkResult:
    """Apply one decision to many examples, each under the same rules as one at a time; the
    ones that cannot be decided are reported, not forced. One audit event for the batch."""
    if decision == Decision.REJECT:
        reason = check_reason(reason)
    rules = rules_for(session, project.id)
    result = BulkResult()
    if decision == Decision.APPROVE:
        for start in range(0, len(selection), APPROVE_BATCH):
            batch = selection[start : start + APPROVE_BATCH]
            approve_many(
                session, actor=actor, project=project, rules=rules, selection=batch, result=result
            )
    else:
        for example_id, revision in selection:
            _reject_one(session, actor, project, example_id, revision, reason, result)
    audit.record(
        session,
        actor=actor,
        action="example.bulk_decision",
        object_type="project",
        object_id=project.id,
        project_id=project.id,
        summary=f"{decision}: {len(result.decided)}",
        details={
            "decision": str(decision),
            "examples": result.decided[:500],
            "skipped": result.skipped,
        },
    )
    return result


def _reject_one(
    session: Session,
    actor: User,
    project: Project,
    example_id: int,
    revision: int,
    reason: str,
    result: BulkResult,
) -> None:
    # No savepoint is needed: every refusal is raised before anything is written (the lock
    # statement changes nothing), so the batch's transaction stays clean.
    try:
        reject(
            session,
            actor=actor,
            project=project,
            example_id=example_id,
            revision=revision,
            reason=reason,
            audit_each=False,
        )
        result.decided.append(example_id)
    except PermissionDenied:
        result.own.append(example_id)
    except (Conflict, NotFound):
        result.moved.append(example_id)


# --- Approving many ------------------------------------------------------------------------------

APPROVE_BATCH = 500


@dataclass(frozen=True)
class _Candidate:
    id: int
    revision: int
    answer: Answer


def _candidates(
    session: Session,
    project: Project,
    actor: User,
    selection: Sequence[tuple[int, int]],
    result: BulkResult,
) -> list[_Candidate]:
    """The selected examples that exist in the project and that the actor did not write."""
    rows = {
        row.id: row
        for row in session.execute(
            select(
                Example.id,
                Example.project_id,
                Example.author_id,
                Example.dataset_id,
                Example.prompt_hash,
                Example.content_hash,
            ).where(Example.id.in_([example_id for example_id, _rev in selection]))
        )
    }
    kept: list[_Candidate] = []
    for example_id, revision in selection:
        row = rows.get(example_id)
        if row is None or row.project_id != project.id:
            result.moved.append(example_id)
        elif row.author_id is not None and row.author_id == actor.id:
            result.own.append(example_id)
        else:
            answer = Answer(row.id, row.dataset_id, row.prompt_hash, row.content_hash)
            kept.append(_Candidate(example_id, revision, answer))
    return kept


def _lock(
    session: Session, candidates: Sequence[_Candidate], result: BulkResult
) -> list[_Candidate]:
    """Compare-and-set on each example (still pending at the revision shown), as one decision
    does, in one statement for the batch (one per example cost a round trip each: most of
    the time on PostgreSQL); it takes the rows' write locks until the batch commits."""
    locked_ids = set(
        session.scalars(
            update(Example)
            .where(
                tuple_(Example.id, Example.revision).in_([(c.id, c.revision) for c in candidates]),
                Example.status == ExampleStatus.PENDING,
            )
            .values(status=ExampleStatus.PENDING, updated_at=Example.updated_at)
            .returning(Example.id)
            .execution_options(synchronize_session=False)
        )
    )
    locked = [c for c in candidates if c.id in locked_ids]
    result.moved.extend(c.id for c in candidates if c.id not in locked_ids)
    return locked


def _approvals_so_far(
    session: Session, locked: Sequence[_Candidate]
) -> dict[tuple[int, int], list[int | None]]:
    """Approvals each locked example's revision already has (read under the lock)."""
    found: dict[tuple[int, int], list[int | None]] = defaultdict(list)
    rows = session.execute(
        select(
            ReviewDecision.example_id, ReviewDecision.revision, ReviewDecision.reviewer_id
        ).where(
            ReviewDecision.example_id.in_([c.id for c in locked]),
            ReviewDecision.decision == Decision.APPROVE,
        )
    )
    for example_id, revision, reviewer_id in rows:
        found[(example_id, revision)].append(reviewer_id)
    return found


def approve_many(
    session: Session,
    *,
    actor: User,
    project: Project,
    rules: Rules,
    selection: Sequence[tuple[int, int]],
    result: BulkResult,
) -> None:
    """Approve a batch of ``(example id, revision)`` under the rules of one approval each; what
    cannot be approved is added to ``result`` by reason. Nothing is written for a refusal."""
    candidates = _candidates(session, project, actor, selection, result)
    locked = _lock(session, candidates, result) if candidates else []
    if not locked:
        return
    earlier = _approvals_so_far(session, locked)
    clashes = conflicting_approved_many(session, [c.answer for c in locked])
    approved_now: dict[tuple[int, str], set[str]] = defaultdict(set)
    final: list[int] = []
    decisions: list[dict[str, Any]] = []
    for candidate in locked:
        approvers = earlier.get((candidate.id, candidate.revision), [])
        answer = candidate.answer
        question = (answer.dataset_id, answer.prompt_hash)
        if actor.id in approvers:
            result.moved.append(candidate.id)  # already approved by this reviewer
            continue
        if candidate.id in clashes or (
            answer.prompt_hash and approved_now[question] - {answer.content_hash}
        ):
            result.conflicts.append(candidate.id)
            continue
        is_final = len(approvers) + 1 >= rules.approvals_required
        decisions.append(_decision_row(project, actor, candidate, is_final))
        result.decided.append(candidate.id)
        if is_final:
            final.append(candidate.id)
            if answer.prompt_hash:
                approved_now[question].add(answer.content_hash)
        else:
            result.waiting.append(candidate.id)
    _write(session, actor, decisions, final)


def _decision_row(
    project: Project, actor: User, candidate: _Candidate, final: bool
) -> dict[str, Any]:
    return {
        "project_id": project.id,
        "example_id": candidate.id,
        "revision": candidate.revision,
        "reviewer_id": actor.id,
        "decision": Decision.APPROVE.value,
        "reason": "",
        "final": final,
        "created_at": utcnow(),
    }


def _write(
    session: Session, actor: User, decisions: list[dict[str, Any]], final: list[int]
) -> None:
    if not decisions:
        return
    session.execute(insert(ReviewDecision), decisions)
    decided = [row["example_id"] for row in decisions]
    waiting = [example_id for example_id in decided if example_id not in set(final)]
    if final:
        session.execute(
            update(Example)
            .where(Example.id.in_(final))
            .values(status=ExampleStatus.APPROVED, decided_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        session.execute(delete(ReviewLease).where(ReviewLease.example_id.in_(final)))
        session.execute(delete(ReviewSkip).where(ReviewSkip.example_id.in_(final)))
    if waiting:
        session.execute(
            delete(ReviewLease).where(
                ReviewLease.example_id.in_(waiting), ReviewLease.reviewer_id == actor.id
            )
        )
