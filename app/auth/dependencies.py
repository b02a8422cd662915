"""Who is asking: the session user for pages, the token user for /api/v1, and the checks
every route declares (admin, project permission). CSRF is checked here for unsafe methods."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.auth.models import User
from app.auth.sessions import CSRF_FIELD, CSRF_HEADER, csrf_matches
from app.db import SessionDep
from app.errors import LoginRequired, PermissionDenied
from app.i18n import _
from app.notifications import service as notifications_service
from app.projects import service as projects_service
from app.projects.permissions import Permission
from app.projects.service import ProjectContext

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class UserView:
    """What templates know of the current user: plain values that outlive the request's session
    (an error page rendered after a rollback still shows who is logged in)."""

    id: int
    name: str
    email: str
    is_admin: bool
    locale: str | None

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(user.id, user.name, user.email, user.is_admin, user.locale)


def _session_user(request: Request, session: Session) -> User | None:
    user_id = request.session.get("uid")
    if not isinstance(user_id, int):
        return None
    user = session.get(User, user_id)
    if user is None or not user.is_active or user.session_epoch != request.session.get("epoch"):
        return None
    return user


def optional_user(request: Request, session: SessionDep) -> User | None:
    """The logged-in user or None (the request's language is fixed earlier, by LocaleMiddleware)."""
    user = _session_user(request, session)
    request.state.user = UserView.of(user) if user else None
    if user is not None:
        request.state.unread_notifications = notifications_service.unread_count(
            session, user_id=user.id
        )
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]


def current_user(user: OptionalUser) -> User:
    if user is None:
        raise LoginRequired()
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise PermissionDenied(_("Only administrators can open this page."))
    return user


AdminUser = Annotated[User, Depends(require_admin)]


def api_user(request: Request, session: SessionDep) -> User:
    """The owner of the bearer token; /api/v1 never looks at cookies (so it needs no CSRF)."""
    header = request.headers.get("authorization", "")
    scheme, _sep, token = header.partition(" ")
    user = (
        auth_service.user_for_api_token(session, token.strip())
        if scheme.lower() == "bearer"
        else None
    )
    if user is None:
        raise HTTPException(
            status_code=401,
            detail="A valid API token is required (Authorization: Bearer td_…).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.state.user = UserView.of(user)
    return user


ApiUser = Annotated[User, Depends(api_user)]


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


async def verify_csrf(request: Request) -> None:
    """Refuse unsafe requests without the session's CSRF token (header or form field)."""
    if request.method in SAFE_METHODS or request.url.path.startswith("/api/"):
        return  # the JSON API authenticates with bearer tokens, never cookies
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    if not csrf_matches(request, submitted):
        raise PermissionDenied(
            _("This form expired or came from another site. Reload the page and try again.")
        )
