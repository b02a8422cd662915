"""The check every project route declares: the project's context for a user holding a permission
there (pages use the session user, ``/api/v1`` the token user). One alias per permission, so a
route reads ``ctx: ReviewAccess``; ``tests/test_route_walk.py`` reads ``permission``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from app.auth.dependencies import api_user, current_user, optional_user
from app.db import SessionDep
from app.errors import PermissionDenied
from app.i18n import _
from app.projects import service as projects_service
from app.projects.permissions import Permission
from app.projects.service import ProjectContext


class ProjectPermission:
    """Dependency: the project's context for a user holding ``permission`` there.

    Declared on every project route, before any other lookup, so that a missing permission is
    a 403 whatever the other path parameters are. The route-walk test reads ``permission``.
    """

    def __init__(self, permission: Permission, *, api: bool = False) -> None:
        self.permission = permission
        self.api = api

    def __call__(
        self, request: Request, session: SessionDep, project_id: Annotated[int, Path()]
    ) -> ProjectContext:
        user = (
            api_user(request, session)
            if self.api
            else current_user(optional_user(request, session))
        )
        context = projects_service.context_for(session, project_id=project_id, user=user)
        if context is None:
            raise PermissionDenied(_("You are not a member of this project."))
        if not context.can(self.permission):
            raise PermissionDenied(
                _("Your role in this project does not allow this. Ask a project manager.")
            )
        return context


# One alias per permission, so a route reads ``ctx: ReviewAccess``.
ViewAccess = Annotated[ProjectContext, Depends(ProjectPermission(Permission.VIEW))]
EditAccess = Annotated[ProjectContext, Depends(ProjectPermission(Permission.EDIT_EXAMPLES))]
ReviewAccess = Annotated[ProjectContext, Depends(ProjectPermission(Permission.REVIEW))]
VoteAccess = Annotated[ProjectContext, Depends(ProjectPermission(Permission.VOTE))]
EvaluateAccess = Annotated[ProjectContext, Depends(ProjectPermission(Permission.EVALUATE))]
VersionAccess = Annotated[ProjectContext, Depends(ProjectPermission(Permission.CREATE_VERSIONS))]
LaunchAccess = Annotated[ProjectContext, Depends(ProjectPermission(Permission.LAUNCH_JOBS))]
ManageAccess = Annotated[ProjectContext, Depends(ProjectPermission(Permission.MANAGE))]

ApiViewAccess = Annotated[ProjectContext, Depends(ProjectPermission(Permission.VIEW, api=True))]
ApiEditAccess = Annotated[
    ProjectContext, Depends(ProjectPermission(Permission.EDIT_EXAMPLES, api=True))
]
ApiReviewAccess = Annotated[ProjectContext, Depends(ProjectPermission(Permission.REVIEW, api=True))]
ApiVoteAccess = Annotated[ProjectContext, Depends(ProjectPermission(Permission.VOTE, api=True))]
ApiEvaluateAccess = Annotated[
    ProjectContext, Depends(ProjectPermission(Permission.EVALUATE, api=True))
]
ApiVersionAccess = Annotated[
    ProjectContext, Depends(ProjectPermission(Permission.CREATE_VERSIONS, api=True))
]
ApiLaunchAccess = Annotated[
    ProjectContext, Depends(ProjectPermission(Permission.LAUNCH_JOBS, api=True))
]
