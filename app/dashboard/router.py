"""The managers' dashboard (``/dashboard``): every project they manage at a glance."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.auth.dependencies import CurrentUser
from app.dashboard import service
from app.db import SessionDep
from app.errors import PermissionDenied
from app.i18n import _
from app.web import render

router = APIRouter()


@router.get("/dashboard", name="dashboard:index")
def dashboard(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    if not service.manages_any(session, user):
        raise PermissionDenied(
            _(
                "The dashboard is for project managers and administrators. Ask a manager of "
                "your project if you need its figures."
            )
        )
    context = {
        "overview": service.overview(session, user=user),
    }
    return render(request, "dashboard/index.html", context, block="live")
