"""What auth adds to every page, registered once at start-up by :func:`app.wiring.wire`."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from app import web
from app.auth.sessions import csrf_token


def _csrf(request: Request) -> dict[str, Any]:
    return {"csrf_token": csrf_token(request)}


def register() -> None:
    web.add_context_provider(_csrf)
