"""The audit log: every mutating service records who did what to which object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import AuditEvent, User
from app.i18n import N_, gettext

# Human labels for action codes; domains add theirs with ``register_actions``.
_ACTION_LABELS: dict[str, str] = {
    "setup.complete": N_("Completed first-run setup"),
    "user.login": N_("Logged in"),
    "user.logout": N_("Logged out"),
    "user.create": N_("Created user"),
    "user.update": N_("Updated user"),
    "user.deactivate": N_("Deactivated user"),
    "user.reactivate": N_("Reactivated user"),
    "user.reset_password": N_("Reset password"),
    "user.change_password": N_("Changed own password"),
    "user.set_locale": N_("Changed language"),
    "api_token.create": N_("Created API token"),
    "api_token.revoke": N_("Revoked API token"),
}


def register_actions(labels: dict[str, str]) -> None:
    _ACTION_LABELS.update(labels)


def action_label(action: str) -> str:
    label = _ACTION_LABELS.get(action)
    return gettext(label) if label else action


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: object = None,
    project_id: int | None = None,
    summary: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event to the current unit of work."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        project_id=project_id,
        summary=summary[:2000],
        details=details or {},
    )
    session.add(event)
    return event


@dataclass(frozen=True)
class AuditPage:
    rows: list[tuple[AuditEvent, User | None]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def browse(
    session: Session,
    *,
    action: str = "",
    actor_id: int | None = None,
    project_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> AuditPage:
    """Newest first, filtered by action prefix, actor and project."""
    query = select(AuditEvent, User).outerjoin(User, User.id == AuditEvent.actor_id)
    count = select(func.count()).select_from(AuditEvent)
    conditions = []
    if action:
        conditions.append(AuditEvent.action.startswith(action))
    if actor_id:
        conditions.append(AuditEvent.actor_id == actor_id)
    if project_id:
        conditions.append(AuditEvent.project_id == project_id)
    for condition in conditions:
        query = query.where(condition)
        count = count.where(condition)
    page = max(1, page)
    rows = session.execute(
        query.order_by(AuditEvent.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return AuditPage(
        rows=[(event, user) for event, user in rows],
        total=session.scalar(count) or 0,
        page=page,
        per_page=per_page,
    )
