"""Administration page of the offline emulator, ``/admin/emulator``: its jobs, files, counters
and faults, read and queued over the emulator's control API. Part of the emulator (like the
CLI that starts it), so that production code never imports the emulator."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from app.auth import audit
from app.auth.dependencies import AdminUser
from app.db import SessionDep, discard_changes
from app.emulator.client import EmulatorControl, EmulatorRefused, EmulatorUnavailable
from app.emulator.control import FAULT_KINDS, ROUTE_NAMES
from app.errors import ValidationFailed
from app.genai import connection
from app.i18n import _
from app.web import flash, redirect, render

router = APIRouter(prefix="/admin")


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
        discard_changes(session)
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
