"""Who is asking: the session user for pages, the token user for /api/v1, and the checks
every route declares (admin, project permission). CSRF is checked here for unsafe methods."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.auth.models import User
from app.auth.sessions import CSRF_FIELD, CSRF_HEADER, csrf_matches
from app.db import SessionDep
from app.errors import LoginRequired, PermissionDenied
from app.i18n import _

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


# What other domains add to each request of a logged-in user (the notification bell's unread
# count), registered at start-up (app.wiring) so that auth needs no import of them.
UserHook = Callable[[Request, Session, User], None]
_user_hooks: list[UserHook] = []


def add_user_hook(hook: UserHook) -> None:
    if hook not in _user_hooks:
        _user_hooks.append(hook)


_RESOLVED = "tunedesk_session_user"


def optional_user(request: Request, session: SessionDep) -> User | None:
    """The logged-in user or None (the request's language is fixed earlier, by LocaleMiddleware).

    Resolved once per request: a project route asks for it through its permission check and
    again through the page's own dependencies, and the hooks must run once."""
    if hasattr(request.state, _RESOLVED):
        resolved: User | None = getattr(request.state, _RESOLVED)
        return resolved
    user = _session_user(request, session)
    setattr(request.state, _RESOLVED, user)
    request.state.user = UserView.of(user) if user else None
    if user is not None:
        for hook in _user_hooks:
            hook(request, session, user)
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
