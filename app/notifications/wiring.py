"""What notifications add to every page (the bell's unread count), registered once at start-up
by :func:`app.wiring.wire`."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from app import web
from app.auth.dependencies import add_user_hook
from app.auth.models import User
from app.notifications import service


def _count_unread(request: Request, session: Session, user: User) -> None:
    request.state.unread_notifications = service.unread_count(session, user_id=user.id)


def _unread(request: Request) -> dict[str, Any]:
    return {"unread_notifications": getattr(request.state, "unread_notifications", 0)}


def register() -> None:
    add_user_hook(_count_unread)
    web.add_context_provider(_unread)
