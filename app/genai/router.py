"""Administration pages of the Gemini connection: ``/admin/connection`` (settings, credentials,
Test connection) and ``/admin/emulator`` (jobs, files, counters and faults of the offline
emulator). Administrators only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from app.auth import audit
from app.auth.dependencies import AdminUser
from app.db import SessionDep
from app.emulator.client import EmulatorControl, EmulatorRefused, EmulatorUnavailable
from app.emulator.control import FAULT_KINDS, ROUTE_NAMES
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
    from app.genai.types import ConnectionReport
    from app.tuning import regions

    config = connection.config_from_session(session)
    report = check_connection(config=config, model=regions.check_model())
    # Which region tunes the models people will choose (and where tuned 3.x models answer).
    report = ConnectionReport((*report.steps, regions.connection_step(config.location)))
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


# --- The emulator -----------------------------------------------------------------------------


def _control() -> EmulatorControl:
    return EmulatorControl(connection.current_config().vertex_base_url)


def _emulator_context(request: Request) -> dict[str, Any]:
    config = connection.current_config()
    context: dict[str, Any] = {
        "enabled": config.is_emulator,
        "address": config.vertex_base_url,
        "state": None,
        "unreachable": "",
        "route_pairs": [(name, name) for name in ROUTE_NAMES],
        "kind_pairs": [
            ("error", _("Answer with an error status")),
            ("slow", _("Answer slowly (the client may time out)")),
            ("fail_job", _("Fail the next tuning job halfway")),
        ],
        "breadcrumbs": [(_("Administration"), None), (_("Emulator"), None)],
    }
    if config.is_emulator:
        try:
            context["state"] = _control().state()
        except EmulatorUnavailable as error:
            context["unreachable"] = str(error)
    return context


@router.get("/emulator", name="genai:emulator")
def emulator_page(request: Request, admin: AdminUser) -> Response:
    return render(request, "genai/emulator.html", _emulator_context(request), block="live")


def _fault_payload(
    route: str, kind: str, status: str, retry_after: str, delay_ms: str, count: str
) -> dict[str, Any]:
    errors = {}
    if route != "*" and route not in ROUTE_NAMES:
        errors["route"] = _("Choose a route from the list.")
    if kind not in FAULT_KINDS:
        errors["kind"] = _("Choose what should go wrong.")
    numbers: dict[str, float] = {}
    for name, value, low, high in (
        ("status", status or "500", 400, 599),
        ("retry_after", retry_after or "0", 0, 3600),
        ("delay_ms", delay_ms or "0", 0, 600_000),
        ("count", count or "1", 1, 1000),
    ):
        try:
            numbers[name] = float(value)
        except ValueError:
            numbers[name] = low - 1
        if not low <= numbers[name] <= high:
            errors[name] = _("Enter a number from %(low)s to %(high)s.") % {
                "low": low,
                "high": high,
            }
    if errors:
        raise ValidationFailed(errors)
    return {
        "route": "tuning.create" if kind == "fail_job" else route,
        "kind": kind,
        "status": int(numbers["status"]),
        "retry_after": numbers["retry_after"] or None,
        "delay_ms": int(numbers["delay_ms"]),
        "count": int(numbers["count"]),
    }


@router.post("/emulator/faults", name="genai:emulator_fault")
def queue_fault(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    route: Annotated[str, Form()] = "*",
    kind: Annotated[str, Form()] = "error",
    status: Annotated[str, Form()] = "500",
    retry_after: Annotated[str, Form()] = "",
    delay_ms: Annotated[str, Form()] = "",
    count: Annotated[str, Form()] = "1",
) -> Response:
    try:
        payload = _fault_payload(route, kind, status, retry_after, delay_ms, count)
        _control().add_fault(payload)
    except ValidationFailed as error:
        flash(request, error.message, "error")
    except (EmulatorUnavailable, EmulatorRefused) as error:
        flash(
            request,
            _("The emulator did not accept the fault: %(reason)s") % {"reason": str(error)},
            "error",
        )
    else:
        audit.record(
            session,
            actor=admin,
            action="genai.emulator_fault",
            object_type="emulator",
            summary=f"{payload['kind']} {payload['route']}",
            details=payload,
        )
        flash(request, _("Fault queued: the next matching requests will fail as asked."))
    return redirect(request, request.url_for("genai:emulator").path)


@router.post("/emulator/faults/clear", name="genai:emulator_clear_faults")
def clear_faults(request: Request, admin: AdminUser) -> Response:
    try:
        _control().clear_faults()
        flash(request, _("Queued faults were removed."))
    except EmulatorUnavailable:
        flash(request, _("The emulator cannot be reached."), "error")
    return redirect(request, request.url_for("genai:emulator").path)


@router.post("/emulator/jobs/{job_id}/fail", name="genai:emulator_fail_job")
def fail_job(request: Request, admin: AdminUser, job_id: str) -> Response:
    try:
        _control().fail_job(job_id)
        flash(request, _("The job will fail at its next step."))
    except EmulatorRefused as error:
        flash(request, str(error), "error")
    except EmulatorUnavailable:
        flash(request, _("The emulator cannot be reached."), "error")
    return redirect(request, request.url_for("genai:emulator").path)
