"""The emulator's ASGI application: a local HTTP server speaking the Vertex AI and Cloud Storage
REST APIs that TuneDesk's gateway uses, so the real SDKs run unchanged against it.

Every API request is counted and logged per route, may be delayed (``latency_ms``) or answered by
a queued fault, must carry a bearer token, and gets Google's error shape on failure. Google APIs
put custom verbs after a colon (``tuningJobs/1:cancel``), so routing uses one catch-all route and
a table of regular expressions rather than Starlette's path templates.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.emulator import (
    control_routes,
    metrics_routes,
    model_routes,
    registry_routes,
    storage_routes,
    tuning_routes,
)
from app.emulator.control import Controls, Fault, RuntimeSettings
from app.emulator.http import DEFAULT_MESSAGES, ApiError, Call, Handler, Reply
from app.emulator.state import EmulatorState

_V = r"^/(?P<version>v1|v1beta1)/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
_MODEL = _V + r"/publishers/(?P<publisher>[^/]+)/models/(?P<model>[^/:]+)"
_ENDPOINT = _V + r"/endpoints/(?P<endpoint>[^/:]+)"
_REGISTRY_MODEL = _V + r"/models/(?P<model>[^/:]+)$"
_STORE = _V + r"/metadataStores/(?P<store>[^/]+)"
_BOARD = _V + r"/tensorboards/(?P<tensorboard>[^/:]+)"
_RUN = _BOARD + r"/experiments/(?P<experiment>[^/]+)/runs/(?P<run>[^/:]+)"
_BUCKET = r"^/storage/v1/b/(?P<bucket>[^/]+)"
_UNAUTHENTICATED = (
    "Request is missing required authentication credential. Expected OAuth 2 "
    "access token, login cookie or other valid authentication credential."
)
_INVALID_TOKEN = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential."
)


@dataclass(frozen=True)
class ApiRoute:
    name: str
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def _route(name: str, method: str, pattern: str, handler: Handler) -> ApiRoute:
    return ApiRoute(name, method, re.compile(pattern), handler)


ROUTES = (
    _route("tuning.create", "POST", _V + r"/tuningJobs$", tuning_routes.create),
    _route("tuning.list", "GET", _V + r"/tuningJobs$", tuning_routes.list_jobs),
    _route("tuning.get", "GET", _V + r"/tuningJobs/(?P<job>[^/:]+)$", tuning_routes.get),
    _route(
        "tuning.cancel", "POST", _V + r"/tuningJobs/(?P<job>[^/:]+):cancel$", tuning_routes.cancel
    ),
    _route("models.get", "GET", _REGISTRY_MODEL, registry_routes.get),
    _route("models.update", "PATCH", _REGISTRY_MODEL, registry_routes.update),
    _route("generate", "POST", _MODEL + r":generateContent$", model_routes.generate_base),
    _route("count_tokens", "POST", _MODEL + r":countTokens$", model_routes.count_base),
    _route("generate", "POST", _ENDPOINT + r":generateContent$", model_routes.generate_tuned),
    _route("count_tokens", "POST", _ENDPOINT + r":countTokens$", model_routes.count_tuned),
    _route(
        "metrics.context", "GET", _STORE + r"/contexts/(?P<context>[^/:]+)$", metrics_routes.context
    ),
    _route("metrics.contexts", "GET", _STORE + r"/contexts$", metrics_routes.contexts),
    _route("metrics.tensorboard", "GET", _BOARD + r"$", metrics_routes.tensorboard),
    _route("metrics.batch_read", "GET", _BOARD + r":batchRead$", metrics_routes.batch_read),
    _route("metrics.run", "GET", _RUN + r"$", metrics_routes.run),
    _route("metrics.time_series", "GET", _RUN + r"/timeSeries$", metrics_routes.time_series),
    _route(
        "metrics.read",
        "GET",
        _RUN + r"/timeSeries/(?P<series>[^/:]+):read$",
        metrics_routes.read_one,
    ),
    _route(
        "storage.upload",
        "POST",
        r"^/upload/storage/v1/b/(?P<bucket>[^/]+)/o$",
        storage_routes.upload,
    ),
    _route(
        "storage.upload_chunk",
        "PUT",
        r"^/upload/storage/v1/b/(?P<bucket>[^/]+)/o$",
        storage_routes.upload_chunk,
    ),
    _route("storage.bucket", "GET", _BUCKET + r"$", storage_routes.bucket),
    _route("storage.object", "GET", _BUCKET + r"/o/(?P<object>.+)$", storage_routes.get_object),
    _route(
        "storage.object",
        "GET",
        r"^/download/storage/v1/b/(?P<bucket>[^/]+)/o/(?P<object>.+)$",
        storage_routes.get_object,
    ),
    _route(
        "storage.delete", "DELETE", _BUCKET + r"/o/(?P<object>.+)$", storage_routes.delete_object
    ),
)


class Emulator:
    """Everything one emulator instance knows: stored state and test controls."""

    def __init__(
        self, state_dir: Path | None, *, time_scale: float = 1.0, latency_ms: int = 0
    ) -> None:
        self.state = EmulatorState(state_dir)
        self.controls = Controls(RuntimeSettings(time_scale=time_scale, latency_ms=latency_ms))


def _match(method: str, path: str) -> tuple[ApiRoute | None, dict[str, str]]:
    for route in ROUTES:
        if route.method == method:
            match = route.pattern.match(path)
            if match:
                return route, {k: v for k, v in match.groupdict().items() if v is not None}
    return None, {}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=status,
        headers=headers,
        media_type="application/json; charset=UTF-8",
    )


def error_response(error: ApiError) -> Response:
    return json_response(error.body(), error.code, error.headers)


def _reply_response(reply: Reply) -> Response:
    if isinstance(reply.body, bytes):
        return Response(
            reply.body,
            status_code=reply.status,
            headers=reply.headers,
            media_type=reply.content_type,
        )
    return json_response(reply.body, reply.status, reply.headers)


def _fault_error(fault: Fault) -> ApiError:
    headers = {}
    if fault.retry_after is not None:
        seconds = fault.retry_after
        headers["Retry-After"] = str(int(seconds)) if seconds == int(seconds) else str(seconds)
    message = fault.message or DEFAULT_MESSAGES.get(fault.status, "Injected fault.")
    return ApiError(fault.status, message, headers=headers)


def _authorize(call: Call) -> None:
    scheme, _sep, token = call.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, _UNAUTHENTICATED)
    required = call.emulator.controls.settings.required_token
    if required and token.strip() != required:
        raise ApiError(401, _INVALID_TOKEN)


def _log_entry(route: ApiRoute, call: Call) -> dict[str, Any]:
    parsed = None
    if "json" in call.headers.get("content-type", "") and call.body:
        try:
            parsed = json.loads(call.body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            parsed = None
    return {
        "route": route.name,
        "method": call.method,
        "path": call.path,
        "query": {key: call.query.getlist(key) for key in call.query},
        "json": parsed,
        "size": len(call.body),
        "at": time.time(),
        "authorized": call.headers.get("authorization", "").lower().startswith("bearer "),
        "content_type": call.headers.get("content-type", ""),
    }


async def api(request: Request) -> Response:
    emulator: Emulator = request.app.state.emulator
    route, params = _match(request.method, request.url.path)
    if route is None:
        return error_response(
            ApiError(404, f"The requested URL {request.url.path} was not found on this server.")
        )
    call = Call(
        emulator=emulator,
        method=request.method,
        path=request.url.path,
        params=params,
        query=request.query_params,
        headers={k.lower(): v for k, v in request.headers.items()},
        body=await request.body(),
        base_url=str(request.base_url).rstrip("/"),
    )
    controls = emulator.controls
    controls.record(route.name, _log_entry(route, call))
    if controls.settings.latency_ms:
        await asyncio.sleep(controls.settings.latency_ms / 1000)
    fault = controls.take(route.name, ("error", "slow"))
    if fault is not None and fault.kind == "slow":
        await asyncio.sleep(fault.delay_ms / 1000)
    elif fault is not None:
        return error_response(_fault_error(fault))
    try:
        _authorize(call)
        reply = route.handler(call)
    except ApiError as error:
        return error_response(error)
    return _reply_response(reply)


def create_app(
    state_dir: Path | None, *, time_scale: float = 1.0, latency_ms: int = 0
) -> Starlette:
    """The emulator as an ASGI app; ``state_dir`` None keeps everything in memory."""
    app = Starlette(
        routes=[
            *control_routes.routes(),
            Route("/{path:path}", api, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
        ]
    )
    app.state.emulator = Emulator(state_dir, time_scale=time_scale, latency_ms=latency_ms)
    return app


def run(*, host: str, port: int, state_dir: Path, time_scale: float) -> None:
    """``tunedesk emulator``: serve until interrupted."""
    import uvicorn

    state_dir.mkdir(parents=True, exist_ok=True)
    print(
        f"Vertex AI emulator on http://{host}:{port} (state in {state_dir}, "
        f"time scale {time_scale:g})",
        flush=True,
    )
    uvicorn.run(
        create_app(state_dir, time_scale=time_scale), host=host, port=port, log_level="warning"
    )
