"""Administration page of the Gemini connection: ``/admin/connection`` (settings, credentials,
Test connection). Administrators only. The emulator's page is :mod:`app.emulator.admin_router`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from app.auth import audit
from app.auth.dependencies import AdminUser
from app.db import SessionDep, discard_changes
from app.errors import ValidationFailed
from app.genai import connection, pages, service
from app.i18n import _
from app.web import flash, full_reload, is_htmx, redirect, render, render_fragment

router = APIRouter(prefix="/admin")
MAX_KEY_UPLOAD = service.MAX_KEY_BYTES + 1


@router.get("/connection", name="genai:connection")
def connection_page(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    return render(request, "genai/connection.html", pages.connection_context(session))


@router.post("/connection", name="genai:save_connection")
def save_connection(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    mode: Annotated[str, Form()] = "",
    project: Annotated[str, Form()] = "",
    location: Annotated[str, Form()] = "",
    bucket: Annotated[str, Form()] = "",
    vertex_base_url: Annotated[str, Form()] = "",
    storage_base_url: Annotated[str, Form()] = "",
    access_token: Annotated[str, Form()] = "",
    forget_token: Annotated[bool, Form()] = False,
) -> Response:
    form = service.SettingsForm(
        mode,
        project,
        location,
        bucket,
        vertex_base_url,
        storage_base_url,
        access_token,
        forget_token,
    )
    try:
        service.save_settings(session, actor=admin, form=form)
    except ValidationFailed as error:
        discard_changes(session)
        shown = {
            "mode": mode,
            "project": project,
            "location": location,
            "bucket": bucket,
            "vertex_base_url": vertex_base_url,
            "storage_base_url": storage_base_url,
        }
        return render(
            request,
            "genai/connection.html",
            pages.connection_context(session, form=shown, errors=error.errors),
            status_code=422,
        )
    flash(request, _("The connection settings were saved."))
    # The banner and the menu depend on the mode: reload the whole page.
    return full_reload(request, request.url_for("genai:connection").path)


@router.post("/connection/reset", name="genai:reset_connection")
def reset_connection(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    service.reset_to_environment(session, actor=admin)
    flash(request, _("The connection follows the environment settings again."))
    return full_reload(request, request.url_for("genai:connection").path)


@router.post("/connection/key", name="genai:upload_key")
def upload_key(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    key_file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    # FastAPI spooled the upload already; reading its file object does not block on the client.
    raw = key_file.file.read(MAX_KEY_UPLOAD) if key_file is not None else b""
    try:
        email = service.save_service_account_key(session, actor=admin, raw=raw)
    except ValidationFailed as error:
        discard_changes(session)
        return render(
            request,
            "genai/connection.html",
            pages.connection_context(session, errors=error.errors),
            status_code=422,
        )
    flash(
        request,
        _("The key of %(email)s is saved, encrypted. It will not be shown again.")
        % {"email": email},
    )
    return redirect(request, request.url_for("genai:connection").path)


@router.post("/connection/key/delete", name="genai:remove_key")
def remove_key(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    service.remove_service_account_key(session, actor=admin)
    flash(request, _("The service-account key was removed."))
    return redirect(request, request.url_for("genai:connection").path)


@router.post("/connection/test", name="genai:test_connection")
def test_connection(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    from app.genai.gateway import check_connection  # loads the Google SDKs

    config = connection.config_from_session(session)
    report = check_connection(config=config)
    audit.record(
        session,
        actor=admin,
        action="genai.connection_test",
        object_type="gemini",
        summary="ok" if report.ok else "failed",
        details={step.key: step.ok for step in report.steps},
    )
    if is_htmx(request):
        return render_fragment(request, "genai/_connection_test.html", {"report": report})
    return render(
        request, "genai/connection.html", pages.connection_context(session, report=report)
    )
