"""Project pages: the home list, creation, overview, members and settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from app.auth.dependencies import CurrentUser
from app.db import SessionDep, discard_changes
from app.errors import ValidationFailed
from app.i18n import _
from app.projects import nav, overview, service
from app.projects.dependencies import ManageAccess, ViewAccess
from app.projects.permissions import ROLE_DESCRIPTIONS, ROLE_LABELS, Role
from app.web import flash, redirect, render

router = APIRouter()


def _role_options() -> list[tuple[str, str]]:
    return [(role.value, service.role_label(role)) for role in Role]


TEMPLATE_GLOBALS = {
    "role_label": service.role_label,
    "project_nav": nav.tabs_for,
    "role_options": _role_options,
}


@router.get("/", name="home")
def home(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return render(
        request, "projects/home.html", {"projects": service.list_for_user(session, user=user)}
    )


@router.get("/projects/new", name="projects:new")
def new_project(request: Request, user: CurrentUser) -> Response:
    return render(
        request,
        "projects/new.html",
        {
            "form": {},
            "errors": {},
            "breadcrumbs": [(_("Projects"), "/"), (_("New project"), None)],
        },
    )


@router.post("/projects", name="projects:create")
def create_project(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    system_instruction: Annotated[str, Form()] = "",
) -> Response:
    try:
        project = service.create_project(
            session,
            actor=user,
            name=name,
            description=description,
            system_instruction=system_instruction,
        )
    except ValidationFailed as error:
        discard_changes(session)
        form = {"name": name, "description": description, "system_instruction": system_instruction}
        return render(
            request,
            "projects/new.html",
            {
                "form": form,
                "errors": error.errors,
                "breadcrumbs": [(_("Projects"), "/"), (_("New project"), None)],
            },
            status_code=422,
        )
    flash(request, _("Project “%(name)s” created. You are its manager.") % {"name": project.name})
    return redirect(request, f"/projects/{project.id}")


@router.get("/projects/{project_id}", name="projects:detail")
def project_detail(request: Request, session: SessionDep, ctx: ViewAccess) -> Response:
    members = service.list_members(session, project_id=ctx.project.id)
    return render(
        request,
        "projects/detail.html",
        {
            "ctx": ctx,
            "members": members,
            "steps": overview.next_steps(session, ctx),
            "breadcrumbs": [(_("Projects"), "/"), (ctx.project.name, None)],
        },
    )


def _members_context(session: SessionDep, ctx: ViewAccess, **extra: object) -> dict[str, object]:
    context: dict[str, object] = {
        "ctx": ctx,
        "members": service.list_members(session, project_id=ctx.project.id),
        "roles": list(Role),
        "role_labels": ROLE_LABELS,
        "role_descriptions": ROLE_DESCRIPTIONS,
        "form": {},
        "errors": {},
        "breadcrumbs": ctx.crumbs((_("Members"), None)),
    }
    context.update(extra)
    return context


@router.get("/projects/{project_id}/members", name="projects:members")
def members(request: Request, session: SessionDep, ctx: ViewAccess) -> Response:
    return render(request, "projects/members.html", _members_context(session, ctx))


@router.post("/projects/{project_id}/members", name="projects:member_add")
def add_member(
    request: Request,
    session: SessionDep,
    ctx: ManageAccess,
    email: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
) -> Response:
    try:
        member = service.add_member(
            session, actor=ctx.user, project=ctx.project, email=email, role=role
        )
    except ValidationFailed as error:
        discard_changes(session)
        return render(
            request,
            "projects/members.html",
            _members_context(
                session, ctx, form={"email": email, "role": role}, errors=error.errors
            ),
            status_code=422,
        )
    session.refresh(member, ["user"])
    flash(
        request,
        _("%(name)s joined the project as %(role)s.")
        % {"name": member.user.name, "role": service.role_label(member.role)},
    )
    return redirect(request, f"/projects/{ctx.project.id}/members")


@router.post("/projects/{project_id}/members/{member_id}/role", name="projects:member_role")
def change_role(
    request: Request,
    session: SessionDep,
    ctx: ManageAccess,
    member_id: int,
    role: Annotated[str, Form()] = "",
) -> Response:
    service.change_role(
        session, actor=ctx.user, project=ctx.project, member_id=member_id, role=role
    )
    flash(request, _("The role was changed."))
    return redirect(request, f"/projects/{ctx.project.id}/members")


@router.post("/projects/{project_id}/members/{member_id}/remove", name="projects:member_remove")
def remove_member(
    request: Request, session: SessionDep, ctx: ManageAccess, member_id: int
) -> Response:
    service.remove_member(session, actor=ctx.user, project=ctx.project, member_id=member_id)
    flash(request, _("The member was removed from the project."))
    return redirect(request, f"/projects/{ctx.project.id}/members")


@router.get("/projects/{project_id}/settings", name="projects:settings")
def settings_form(request: Request, ctx: ManageAccess) -> Response:
    form = {
        "name": ctx.project.name,
        "description": ctx.project.description,
        "system_instruction": ctx.project.system_instruction,
    }
    return render(
        request,
        "projects/settings.html",
        {
            "ctx": ctx,
            "form": form,
            "errors": {},
            "breadcrumbs": ctx.crumbs((_("Settings"), None)),
        },
    )


@router.post("/projects/{project_id}/settings", name="projects:settings_save")
def save_settings(
    request: Request,
    session: SessionDep,
    ctx: ManageAccess,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    system_instruction: Annotated[str, Form()] = "",
) -> Response:
    try:
        service.update_project(
            session,
            actor=ctx.user,
            project=ctx.project,
            name=name,
            description=description,
            system_instruction=system_instruction,
        )
    except ValidationFailed as error:
        discard_changes(session)
        form = {"name": name, "description": description, "system_instruction": system_instruction}
        return render(
            request,
            "projects/settings.html",
            {
                "ctx": ctx,
                "form": form,
                "errors": error.errors,
                "breadcrumbs": ctx.crumbs((_("Settings"), None)),
            },
            status_code=422,
        )
    flash(request, _("Project settings saved."))
    return redirect(request, f"/projects/{ctx.project.id}/settings")
