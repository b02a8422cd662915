"""create_app(): middleware, routers, static files and the one place errors become responses."""

from __future__ import annotations

import logging
import time
import uuid

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import api, error_pages, system, wiring
from app.auth import admin_router
from app.auth import router as auth_router
from app.auth.dependencies import verify_csrf
from app.auth.sessions import LocaleMiddleware, SessionMiddleware
from app.config import PROJECT_ROOT, get_settings
from app.dashboard import router as dashboard_router
from app.dashboard.service import mark_dashboard_access
from app.datasets.versions import api as versions_api
from app.datasets.versions import router as versions_router
from app.datasets.web import api as datasets_api
from app.datasets.web import datasets_router
from app.datasets.web import rows_router as datasets_rows_router
from app.datasets.web import uploads_router as datasets_upload_router
from app.emulator import admin_router as emulator_admin_router
from app.evaluations.web import api as evaluations_api
from app.evaluations.web import router as evaluations_router
from app.genai import router as genai_router
from app.logs import configure_logging, request_id_var
from app.notifications import router as notifications_router
from app.projects import audit_router
from app.projects import router as projects_router
from app.review import router as review_router
from app.review import router_examples as review_examples_router
from app.review import router_table as review_table_router
from app.tuning import api as tuning_api
from app.tuning import router as tuning_router

logger = logging.getLogger("tunedesk.http")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        b"script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    ),
]


class RequestContextMiddleware:
    """Request id (kept from X-Request-ID or made up), one access log line, security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:64]
        request_id = incoming or uuid.uuid4().hex[:16]
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(SECURITY_HEADERS)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if not scope["path"].startswith("/static/"):
                logger.info(
                    "%s %s %s %.1fms",
                    scope["method"],
                    scope["path"],
                    status,
                    (time.perf_counter() - started) * 1000,
                    extra={"status": status, "path": scope["path"], "method": scope["method"]},
                )
            request_id_var.reset(token)


def _install_health(app: FastAPI) -> None:
    @app.get("/healthz", name="healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", name="readyz", include_in_schema=False)
    def readyz() -> Response:
        """The database and the broker answer."""
        checks = [system.check_database(), system.check_broker()]
        ready = all(check.ok for check in checks)
        body = {
            "status": "ready" if ready else "not ready",
            "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
        }
        return JSONResponse(body, status_code=200 if ready else 503)


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging()
    wiring.wire()
    app = FastAPI(
        title="TuneDesk API",
        version="1",
        description="Automation for TuneDesk: authenticate with a personal API token "
        "(Account → API tokens) sent as `Authorization: Bearer td_…`.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        dependencies=[Depends(verify_csrf), Depends(mark_dashboard_access)],
    )
    app.add_middleware(LocaleMiddleware)  # runs inside the session middleware: it reads the session
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        max_age=settings.session_max_age_hours * 3600,
        secure=settings.secure_cookies,
    )
    app.add_middleware(RequestContextMiddleware)
    app.mount("/static", StaticFiles(directory=str(PROJECT_ROOT / "static")), name="static")
    error_pages.install(app)
    _install_health(app)
    for router in (
        auth_router.router,
        admin_router.router,
        audit_router.router,
        genai_router.router,
        emulator_admin_router.router,
        projects_router.router,
        datasets_router.router,
        datasets_upload_router.router,
        datasets_rows_router.router,
        datasets_api.router,
        notifications_router.router,
        review_router.router,
        review_table_router.router,
        review_examples_router.router,
        versions_router.router,
        api.router,
        versions_api.router,
        tuning_router.router,
        dashboard_router.router,
        tuning_api.router,
        evaluations_router.router,
        evaluations_api.router,
    ):
        app.include_router(router)
    return app
