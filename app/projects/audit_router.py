"""Administration: the audit log, every action by person and project (here rather than in auth
because it names the projects)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.auth import audit
from app.auth import service as auth_service
from app.auth.dependencies import AdminUser
from app.db import SessionDep
from app.i18n import _
from app.projects import service as projects_service
from app.web import render

router = APIRouter(prefix="/admin")


@router.get("/audit", name="admin:audit")
def audit_log(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    action: str = "",
    actor_id: Annotated[int | None, Query()] = None,
    project_id: Annotated[int | None, Query()] = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    result = audit.browse(
        session, action=action, actor_id=actor_id, project_id=project_id, page=page
    )
    projects = {
        s.project.id: s.project.name for s in projects_service.list_for_user(session, user=admin)
    }
    return render(
        request,
        "admin/audit.html",
        {
            "result": result,
            "action": action,
            "actor_id": actor_id,
            "project_id": project_id,
            "users": auth_service.list_users(session),
            "projects": projects,
            "action_label": audit.action_label,
            "breadcrumbs": [(_("Administration"), None), (_("Audit log"), None)],
        },
        block="results",
    )
