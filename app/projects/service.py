"""Projects and membership. Every change is audited; the creator becomes the first manager."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from app.auth import audit
from app.auth import service as auth_service
from app.auth.models import User
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import N_, _, gettext
from app.notifications import service as notifications
from app.notifications.service import Kind
from app.projects.models import Project, ProjectMember
from app.projects.permissions import ROLE_LABELS, Permission, Role, role_allows

NOTIFICATION_KINDS = {
    "member.added": Kind(
        title=N_("You were added to %(project)s"),
        body=N_("%(by)s added you to the project %(project)s as %(role_label)s."),
    ),
}
AUDIT_ACTIONS = {
    "project.create": N_("Created project"),
    "project.update": N_("Updated project settings"),
    "project.archive": N_("Archived project"),
    "member.add": N_("Added member"),
    "member.change_role": N_("Changed member role"),
    "member.remove": N_("Removed member"),
}


@dataclass(frozen=True)
class ProjectContext:
    """A project as seen by one user: what the route dependencies hand to handlers."""

    project: Project
    user: User
    role: Role | None  # None for an administrator who is not a member

    def can(self, permission: Permission) -> bool:
        return self.user.is_admin or role_allows(self.role, permission)

    def crumbs(self, *tail: tuple[str, str | None]) -> list[tuple[str, str | None]]:
        """Breadcrumbs from the projects list through this project to ``tail``."""
        return [(_("Projects"), "/"), (self.project.name, f"/projects/{self.project.id}"), *tail]


def _validate(name: str) -> dict[str, str]:
    if not name.strip():
        return {"name": _("Give the project a name, such as “Support replies”.")}
    if len(name.strip()) > 120:
        return {"name": _("Keep the name under 120 characters.")}
    return {}


def create_project(
    session: Session,
    *,
    actor: User,
    name: str,
    description: str = "",
    system_instruction: str = "",
) -> Project:
    """Create a project; its creator becomes its first manager."""
    if problems := _validate(name):
        raise ValidationFailed(problems)
    project = Project(
        name=name.strip(),
        description=description.strip(),
        system_instruction=system_instruction.strip(),
        created_by_id=actor.id,
    )
    session.add(project)
    session.flush()
    session.add(ProjectMember(project_id=project.id, user_id=actor.id, role=Role.MANAGER))
    audit.record(
        session,
        actor=actor,
        action="project.create",
        object_type="project",
        object_id=project.id,
        project_id=project.id,
        summary=project.name,
    )
    return project


def update_project(
    session: Session,
    *,
    actor: User,
    project: Project,
    name: str,
    description: str,
    system_instruction: str,
) -> Project:
    if problems := _validate(name):
        raise ValidationFailed(problems)
    before = {
        "name": project.name,
        "description": project.description,
        "system_instruction": project.system_instruction,
    }
    project.name = name.strip()
    project.description = description.strip()
    project.system_instruction = system_instruction.strip()
    after = {
        "name": project.name,
        "description": project.description,
        "system_instruction": project.system_instruction,
    }
    changed = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
    if changed:
        audit.record(
            session,
            actor=actor,
            action="project.update",
            object_type="project",
            object_id=project.id,
            project_id=project.id,
            summary=project.name,
            details=changed,
        )
    return project


def get_project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None or project.archived_at is not None:
        raise NotFound(_("This project does not exist or was archived."))
    return project


def membership(session: Session, *, project_id: int, user_id: int) -> ProjectMember | None:
    return session.scalar(
        select(ProjectMember).where(
            ProjectMember.project_id == project_id, ProjectMember.user_id == user_id
        )
    )


def context_for(session: Session, *, project_id: int, user: User) -> ProjectContext | None:
    """The user's view of a project, or None when they may not see it at all."""
    project = get_project(session, project_id)
    member = membership(session, project_id=project_id, user_id=user.id)
    if member is None and not user.is_admin:
        return None
    return ProjectContext(project, user, Role(member.role) if member else None)


@dataclass(frozen=True)
class ProjectSummary:
    project: Project
    role: Role | None
    member_count: int


def list_for_user(session: Session, *, user: User) -> list[ProjectSummary]:
    """Projects the user belongs to (administrators see every project)."""
    counts = (
        select(ProjectMember.project_id, func.count().label("n"))
        .group_by(ProjectMember.project_id)
        .subquery()
    )
    mine = (
        select(ProjectMember.project_id, ProjectMember.role)
        .where(ProjectMember.user_id == user.id)
        .subquery()
    )
    query = (
        select(Project, mine.c.role, func.coalesce(counts.c.n, 0))
        .outerjoin(mine, mine.c.project_id == Project.id)
        .outerjoin(counts, counts.c.project_id == Project.id)
        .where(Project.archived_at.is_(None))
        .order_by(func.lower(Project.name))
    )
    if not user.is_admin:
        query = query.where(mine.c.role.is_not(None))
    return [
        ProjectSummary(project, Role(role) if role else None, count)
        for project, role, count in session.execute(query).all()
    ]


def list_members(session: Session, *, project_id: int) -> list[ProjectMember]:
    return list(
        session.scalars(
            select(ProjectMember)
            .options(joinedload(ProjectMember.user))
            .join(User, User.id == ProjectMember.user_id)
            .where(ProjectMember.project_id == project_id)
            .order_by(func.lower(User.name))
        )
    )


def _parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise ValidationFailed({"role": _("Choose one of the listed roles.")}) from None


def add_member(
    session: Session, *, actor: User, project: Project, email: str, role: str
) -> ProjectMember:
    """Add an existing user by e-mail address; they are notified."""
    parsed_role = _parse_role(role)
    user = auth_service.get_user_by_email(session, email)
    if user is None or not user.is_active:
        raise ValidationFailed(
            {
                "email": _(
                    "No active user has this e-mail address. An administrator can create "
                    "the account first."
                )
            }
        )
    if membership(session, project_id=project.id, user_id=user.id):
        raise ValidationFailed({"email": _("%(name)s is already a member.") % {"name": user.name}})
    member = ProjectMember(project_id=project.id, user_id=user.id, role=parsed_role)
    session.add(member)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="member.add",
        object_type="project_member",
        object_id=member.id,
        project_id=project.id,
        summary=f"{user.email}: {parsed_role}",
    )
    notifications.notify(
        session,
        user_ids=[user.id],
        kind="member.added",
        params={"project": project.name, "role": parsed_role.value, "by": actor.name},
        link=f"/projects/{project.id}",
        project_id=project.id,
    )
    return member


def _manager_count(session: Session, project_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(ProjectMember)
            .where(ProjectMember.project_id == project_id, ProjectMember.role == Role.MANAGER)
        )
        or 0
    )


def _get_member(session: Session, project: Project, member_id: int) -> ProjectMember:
    member = session.get(ProjectMember, member_id)
    if member is None or member.project_id != project.id:
        raise NotFound(_("This member does not exist."))
    return member


def change_role(
    session: Session, *, actor: User, project: Project, member_id: int, role: str
) -> ProjectMember:
    parsed_role = _parse_role(role)
    member = _get_member(session, project, member_id)
    if (
        member.role == Role.MANAGER
        and parsed_role != Role.MANAGER
        and _manager_count(session, project.id) <= 1
    ):
        raise Conflict(
            _("A project needs at least one manager. Make someone else a manager first.")
        )
    before = member.role
    member.role = parsed_role
    audit.record(
        session,
        actor=actor,
        action="member.change_role",
        object_type="project_member",
        object_id=member.id,
        project_id=project.id,
        details={"role": [before, parsed_role.value]},
    )
    return member


def remove_member(session: Session, *, actor: User, project: Project, member_id: int) -> None:
    member = _get_member(session, project, member_id)
    if member.role == Role.MANAGER and _manager_count(session, project.id) <= 1:
        raise Conflict(
            _("A project needs at least one manager. Make someone else a manager first.")
        )
    audit.record(
        session,
        actor=actor,
        action="member.remove",
        object_type="project_member",
        object_id=member.id,
        project_id=project.id,
        details={"user_id": member.user_id},
    )
    session.delete(member)


def role_label(role: Role | str | None) -> str:
    if role is None:
        return _("Administrator")
    return gettext(ROLE_LABELS[Role(role)])
