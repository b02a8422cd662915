"""A project's review rules: how many approvals an example needs, and automatic distribution."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import User
from app.errors import ValidationFailed
from app.i18n import N_, _
from app.projects.models import Project
from app.review.models import ReviewSettings

AUDIT_ACTIONS = {"review.settings": N_("Changed review settings")}

LEASE_MINUTES_CHOICES = (5, 10, 15, 30, 60)


@dataclass(frozen=True)
class Rules:
    approvals_required: int = 1
    auto_assign: bool = True
    lease_minutes: int = 10


def rules_for(session: Session, project_id: int) -> Rules:
    row = session.get(ReviewSettings, project_id)
    if row is None:
        return Rules()
    return Rules(row.approvals_required, row.auto_assign, row.lease_minutes)


def _validate(approvals_required: str, lease_minutes: str) -> tuple[int, int]:
    errors: dict[str, str] = {}
    approvals = int(approvals_required) if approvals_required in ("1", "2") else 0
    if not approvals:
        errors["approvals_required"] = _("Choose one or two approvals per example.")
    minutes = int(lease_minutes) if lease_minutes.isdigit() else 0
    if minutes not in LEASE_MINUTES_CHOICES:
        errors["lease_minutes"] = _("Choose one of the listed durations.")
    if errors:
        raise ValidationFailed(errors)
    return approvals, minutes


def update_rules(
    session: Session,
    *,
    actor: User,
    project: Project,
    approvals_required: str,
    auto_assign: bool,
    lease_minutes: str,
) -> Rules:
    """Save the project's review rules (managers); the change is audited."""
    approvals, minutes = _validate(approvals_required, lease_minutes)
    row = session.get(ReviewSettings, project.id)
    before = rules_for(session, project.id)
    if row is None:
        row = ReviewSettings(project_id=project.id)
        session.add(row)
    row.approvals_required = approvals
    row.auto_assign = auto_assign
    row.lease_minutes = minutes
    row.updated_by_id = actor.id
    after = Rules(approvals, auto_assign, minutes)
    changes = {
        key: [getattr(before, key), getattr(after, key)]
        for key in ("approvals_required", "auto_assign", "lease_minutes")
        if getattr(before, key) != getattr(after, key)
    }
    if changes:
        audit.record(
            session,
            actor=actor,
            action="review.settings",
            object_type="project",
            object_id=project.id,
            project_id=project.id,
            summary=project.name,
            details=changes,
        )
    return after
