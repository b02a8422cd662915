"""The one place errors become responses: a JSON body for /api/v1, a toast for an HTMX request,
an error page (in the reader's language) otherwise."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.db import new_session
from app.errors import AppError, LoginRequired
from app.i18n import _
from app.logs import request_id_var
from app.web import is_htmx, render

logger = logging.getLogger("tunedesk.http")


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status_code: int, message: str, code: str) -> Response:
    if is_api(request):
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=status_code)
    if is_htmx(request):
        # Shown as a toast wherever the user is, instead of replacing part of the page.
        return render(
            request,
            "components/_toast_only.html",
            {"toast": {"message": message, "level": "error"}},
            status_code=status_code,
            headers={"HX-Retarget": "#toasts", "HX-Reswap": "beforeend"},
        )
    return render(
        request,
        "error.html",
        {"status_code": status_code, "message": message},
        status_code=status_code,
    )


def login_required(request: Request, _exc: Exception) -> Response:
    """To the login page, back to this page afterwards (or to first-run setup)."""
    from app.auth.service import any_user_exists

    with new_session() as session:
        target = "/login" if any_user_exists(session) else "/setup"
    if request.method == "GET" and target == "/login":
        query = f"?{request.url.query}" if request.url.query else ""
        target += "?next=" + quote(request.url.path + query)
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return error_response(request, exc.status_code, exc.message, exc.code)


def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if is_api(request):
        return JSONResponse(
            {"error": {"code": f"http_{exc.status_code}", "message": str(exc.detail)}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
    messages = {
        404: _("There is nothing at this address. Check the link, or go back to your projects."),
        405: _("This address does not accept that kind of request."),
    }
    message = messages.get(exc.status_code, str(exc.detail))
    return error_response(request, exc.status_code, message, "http_error")


def invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if is_api(request):
        details: list[dict[str, Any]] = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()
        ]
        body = {"code": "invalid", "message": "The request is not valid.", "details": details}
        return JSONResponse({"error": body}, status_code=422)
    message = _("Part of this address or form is not valid. Go back and try again.")
    return error_response(request, 400, message, "invalid")


def unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    message = _(
        "Something went wrong on our side. Nothing was lost; try again in a moment. "
        "If it keeps happening, give your administrator this code: %(id)s"
    ) % {"id": request_id_var.get()}
    return error_response(request, 500, message, "internal")


def install(app: FastAPI) -> None:
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, unexpected)
