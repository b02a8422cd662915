"""Administration: users and the health of the background services (the audit log, which names
projects, is :mod:`app.projects.audit_router`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from app.auth import service
from app.auth.dependencies import AdminUser
from app.db import SessionDep, discard_changes
from app.errors import ValidationFailed
from app.i18n import _
from app.system import check_broker, check_database, worker_status
from app.web import flash, redirect, render

router = APIRouter(prefix="/admin")


def _users_context(session: SessionDep, **extra: object) -> dict[str, object]:
    context: dict[str, object] = {
        "users": service.list_users(session),
        "form": {},
        "errors": {},
        "breadcrumbs": [(_("Administration"), None), (_("Users"), None)],
    }
    context.update(extra)
    return context


@router.get("/users", name="admin:users")
def users(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    return render(request, "admin/users.html", _users_context(session))


@router.post("/users", name="admin:create_user")
def create_user(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    is_admin: Annotated[bool, Form()] = False,
) -> Response:
    try:
        user = service.create_user(
            session, actor=admin, email=email, name=name, password=password, is_admin=is_admin
        )
    except ValidationFailed as error:
        discard_changes(session)
        form = {"name": name, "email": email, "is_admin": is_admin}
        return render(
            request,
            "admin/users.html",
            _users_context(session, form=form, errors=error.errors),
            status_code=422,
        )
    flash(request, _("%(name)s can now log in with the password you chose.") % {"name": user.name})
    return redirect(request, "/admin/users")


@router.post("/users/{user_id}/active", name="admin:set_active")
def set_active(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    user_id: int,
    active: Annotated[bool, Form()] = False,
) -> Response:
    user = service.set_active(session, actor=admin, user_id=user_id, active=active)
    message = (
        _("%(name)s can log in again.")
        if active
        else _("%(name)s is deactivated and was logged out everywhere.")
    )
    flash(request, message % {"name": user.name})
    return redirect(request, "/admin/users")


@router.post("/users/{user_id}/admin", name="admin:set_admin")
def set_admin(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    user_id: int,
    is_admin: Annotated[bool, Form()] = False,
) -> Response:
    user = service.set_admin(session, actor=admin, user_id=user_id, is_admin=is_admin)
    flash(request, _("Administrator rights of %(name)s were updated.") % {"name": user.name})
    return redirect(request, "/admin/users")


@router.post("/users/{user_id}/password", name="admin:reset_password")
def reset_password(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    user_id: int,
    password: Annotated[str, Form()] = "",
) -> Response:
    try:
        user = service.reset_password(session, actor=admin, user_id=user_id, new_password=password)
    except ValidationFailed as error:
        discard_changes(session)
        flash(request, error.message, "error")
        return redirect(request, "/admin/users")
    flash(
        request,
        _("The password of %(name)s was reset; tell them the new one in person.")
        % {"name": user.name},
    )
    return redirect(request, "/admin/users")


@router.get("/system", name="admin:system")
def system(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    heartbeat_at, worker_ok = worker_status(session)
    return render(
        request,
        "admin/system.html",
        {
            "checks": [check_database(), check_broker()],
            "heartbeat_at": heartbeat_at,
            "worker_ok": worker_ok,
            "breadcrumbs": [(_("Administration"), None), (_("System"), None)],
        },
    )
