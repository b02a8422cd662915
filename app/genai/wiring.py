"""What the Gemini gateway adds to the others (audit labels, the emulator banner on every page),
registered once at start-up by :func:`app.wiring.wire`."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from app import web
from app.auth import audit
from app.genai import service
from app.genai.connection import effective_mode


def _emulator_banner(_request: Request) -> dict[str, Any]:
    # The saved connection wins over the environment (cached for a few seconds).
    return {"emulator_mode": effective_mode() == "emulator"}


def register() -> None:
    audit.register_actions(service.AUDIT_ACTIONS)
    web.add_context_provider(_emulator_banner)
