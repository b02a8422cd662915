"""The notification list behind the bell."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.auth.dependencies import CurrentUser
from app.db import SessionDep
from app.i18n import _
from app.notifications import service
from app.web import redirect, render

router = APIRouter(prefix="/notifications")


@router.get("", name="notifications:list")
def notification_list(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    items = [(n, *service.render(n)) for n in service.recent(session, user_id=user.id)]
    return render(
        request,
        "notifications/list.html",
        {
            "items": items,
            "breadcrumbs": [(_("Notifications"), None)],
        },
    )


@router.post("/read", name="notifications:read_all")
def read_all(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    service.mark_read(session, user_id=user.id)
    return redirect(request, "/notifications")


@router.post("/{notification_id}/open", name="notifications:open")
def open_notification(
    request: Request, session: SessionDep, user: CurrentUser, notification_id: int
) -> Response:
    """Mark as read and go where the notification points."""
    link = service.open_notification(session, user_id=user.id, notification_id=notification_id)
    return redirect(request, link if link.startswith("/") else "/notifications")
