"""Roles and what each may do inside a project.

Routes ask for a permission, never for a role, so a new capability is one line here.
Administrators hold every permission in every project.
"""

from __future__ import annotations

from enum import StrEnum

from app.i18n import N_


class Role(StrEnum):
    MANAGER = "manager"
    REVIEWER = "reviewer"
    EXPERT = "expert"
    VIEWER = "viewer"


class Permission(StrEnum):
    VIEW = "view"  # read everything in the project
    EDIT_EXAMPLES = "edit_examples"  # upload files, add and edit examples
    REVIEW = "review"  # approve or reject examples
    VOTE = "vote"  # blind human votes in evaluations
    EVALUATE = "evaluate"  # start evaluations, turn failures into examples
    CREATE_VERSIONS = "create_versions"
    LAUNCH_JOBS = "launch_jobs"  # spends money
    MANAGE = "manage"  # members, settings, budget


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.VIEW}),
    Role.EXPERT: frozenset({Permission.VIEW, Permission.EDIT_EXAMPLES, Permission.EVALUATE}),
    Role.REVIEWER: frozenset(
        {
            Permission.VIEW,
            Permission.EDIT_EXAMPLES,
            Permission.REVIEW,
            Permission.VOTE,
            Permission.EVALUATE,
        }
    ),
    Role.MANAGER: frozenset(Permission),
}

ROLE_LABELS: dict[Role, str] = {
    Role.MANAGER: N_("Manager"),
    Role.REVIEWER: N_("Reviewer"),
    Role.EXPERT: N_("Domain expert"),
    Role.VIEWER: N_("Viewer"),
}

ROLE_DESCRIPTIONS: dict[Role, str] = {
    Role.MANAGER: N_(
        "Everything in the project: members, dataset versions, tuning jobs and budget."
    ),
    Role.REVIEWER: N_("Approves or rejects examples and votes in blind comparisons."),
    Role.EXPERT: N_("Uploads and edits examples and fixes answers from evaluations."),
    Role.VIEWER: N_("Reads everything, changes nothing."),
}


def role_allows(role: Role | None, permission: Permission) -> bool:
    return role is not None and permission in ROLE_PERMISSIONS[role]
