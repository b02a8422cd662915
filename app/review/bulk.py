"""Deciding many examples at once from the table view, each under the rules of one decision."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import User
from app.datasets.models import ExampleStatus
from app.errors import Conflict, NotFound, PermissionDenied
from app.i18n import N_
from app.projects.models import Project
from app.review.decisions import ConflictingAnswers, approve, check_reason, reject
from app.review.models import Decision
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
    for example_id, revision in selection:
        _bulk_one(session, actor, project, rules, example_id, revision, decision, reason, result)
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


def _bulk_one(
    session: Session,
    actor: User,
    project: Project,
    rules: Rules,
    example_id: int,
    revision: int,
    decision: Decision,
    reason: str,
    result: BulkResult,
) -> None:
    # No savepoint is needed: every refusal is raised before anything is written (the lock
    # statement changes nothing), so the batch's transaction stays clean.
    try:
        if decision == Decision.APPROVE:
            outcome = approve(
                session,
                actor=actor,
                project=project,
                example_id=example_id,
                revision=revision,
                rules=rules,
                audit_each=False,
            )
            if outcome.status != ExampleStatus.APPROVED:
                result.waiting.append(example_id)
        else:
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
    except ConflictingAnswers:
        result.conflicts.append(example_id)
    except (Conflict, NotFound):
        result.moved.append(example_id)
