"""The emulator's own JSON control API under ``/_emulator/`` (tests and the admin page):

GET  /_emulator/health            liveness
GET  /_emulator/state             settings, queued faults, counters, jobs and files
GET  /_emulator/counters          requests per route
GET  /_emulator/requests?route=   the request log (paths, queries, JSON bodies; never tokens)
POST /_emulator/faults            queue a fault (or {"faults": [...]})
DELETE /_emulator/faults          drop queued faults
POST /_emulator/settings          time_scale, latency_ms, max_example_tokens, required_token
POST /_emulator/clock             {"advance_seconds": N}: move every job N emulated seconds on
POST /_emulator/jobs/{id}/fail    make a running job fail at its next step
POST /_emulator/reset             drop faults, counters and the request log
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.emulator import timeline
from app.emulator.control import ControlError, parse_fault
from app.emulator.http import ApiError

if TYPE_CHECKING:
    from app.emulator.server import Emulator


def _emulator(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


def _json(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=status,
        media_type="application/json; charset=UTF-8",
    )


async def _payload(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        payload = json.loads(raw)
    except json.JSONDecodeError:
        raise ControlError("The body must be a JSON object.") from None
    if not isinstance(payload, dict):
        raise ControlError("The body must be a JSON object.")
    return payload


def _bad(error: Exception) -> Response:
    return _json(ApiError(400, str(error)).body(), 400)


def job_summaries(emulator: Emulator) -> list[dict[str, Any]]:
    state = emulator.state
    summaries = []
    for job in state.jobs():
        snap = timeline.snapshot(job, state.elapsed(job))
        summaries.append(
            {
                "id": job.job_id,
                "name": job.name,
                "display_name": job.display_name,
                "base_model": job.base_model,
                "state": snap.state,
                "sub_state": snap.sub_state,
                "completed_steps": snap.completed_steps,
                "total_steps": job.total_steps,
                "labels": job.labels,
                "created_at": job.created_at,
                "error": (snap.error or {}).get("message", ""),
            }
        )
    return summaries


async def health(request: Request) -> Response:
    return _json({"ok": True})


async def state(request: Request) -> Response:
    emulator = _emulator(request)
    body = emulator.controls.snapshot()
    body["jobs"] = job_summaries(emulator)
    body["files"] = [
        {"bucket": o.bucket, "name": o.name, "size": o.size, "created_at": o.created_at}
        for o in emulator.state.objects()
    ]
    return _json(body)


async def counters(request: Request) -> Response:
    return _json(_emulator(request).controls.snapshot()["counters"])


async def requests(request: Request) -> Response:
    return _json(_emulator(request).controls.requests(request.query_params.get("route")))


async def faults(request: Request) -> Response:
    controls = _emulator(request).controls
    if request.method == "DELETE":
        controls.clear(faults=True, counters=False)
        return _json({"faults": []})
    try:
        payload = await _payload(request)
        items = payload["faults"] if isinstance(payload.get("faults"), list) else [payload]
        parsed = [parse_fault(item if isinstance(item, dict) else {}) for item in items]
    except ControlError as error:
        return _bad(error)
    for fault in parsed:
        controls.add_fault(fault)
    return _json(controls.snapshot()["faults"])


async def settings(request: Request) -> Response:
    controls = _emulator(request).controls
    try:
        controls.update_settings(await _payload(request))
    except ControlError as error:
        return _bad(error)
    return _json(controls.snapshot()["settings"])


async def clock(request: Request) -> Response:
    emulator = _emulator(request)
    try:
        seconds = float((await _payload(request)).get("advance_seconds", 0))
    except (ControlError, TypeError, ValueError) as error:
        return _bad(ControlError(f"advance_seconds must be a number ({error})."))
    if not math.isfinite(seconds) or seconds < 0:
        return _bad(ControlError("advance_seconds must be a positive number."))
    emulator.state.advance_clock(seconds)
    return _json({"offset": emulator.state.clock_offset})


async def fail_job(request: Request) -> Response:
    state = _emulator(request).state
    job = state.job(request.path_params["job_id"])
    if job is None:
        return _json(ApiError(404, "No such tuning job.").body(), 404)
    snap = timeline.snapshot(job, state.elapsed(job))
    if snap.state in timeline.TERMINAL_STATES:
        return _bad(ControlError(f"The job already ended ({snap.state})."))
    job.fail_at_step = min(job.total_steps, snap.completed_steps + 1)
    state.save_job(job)
    return _json({"fail_at_step": job.fail_at_step})


async def reset(request: Request) -> Response:
    _emulator(request).controls.clear(faults=True, counters=True)
    return _json({"ok": True})


def routes() -> list[Route]:
    return [
        Route("/_emulator/health", health, methods=["GET"]),
        Route("/_emulator/state", state, methods=["GET"]),
        Route("/_emulator/counters", counters, methods=["GET"]),
        Route("/_emulator/requests", requests, methods=["GET"]),
        Route("/_emulator/faults", faults, methods=["POST", "DELETE"]),
        Route("/_emulator/settings", settings, methods=["POST"]),
        Route("/_emulator/clock", clock, methods=["POST"]),
        Route("/_emulator/jobs/{job_id}/fail", fail_job, methods=["POST"]),
        Route("/_emulator/reset", reset, methods=["POST"]),
    ]
