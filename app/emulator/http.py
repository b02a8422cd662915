"""The pieces every emulator route shares: the call it receives, the reply it gives, and
Google-style errors (``{"error": {"code", "message", "status"}}``, the only error shape the SDKs
parse)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.datastructures import QueryParams

if TYPE_CHECKING:
    from app.emulator.server import Emulator

# google.rpc.Code names by HTTP status, as Google APIs map them.
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
DEFAULT_MESSAGES = {
    408: "The request timed out. Please try again.",
    429: "Resource exhausted. Please try again later. Please refer to "
    "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.",
    500: "Internal error encountered.",
    502: "Bad gateway.",
    503: "The service is currently unavailable.",
    504: "Deadline exceeded.",
}


class ApiError(Exception):
    def __init__(
        self,
        code: int,
        message: str,
        *,
        status: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")
        self.details = details or []
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def failed_precondition(message: str) -> ApiError:
    # FAILED_PRECONDITION travels as HTTP 400, like INVALID_ARGUMENT.
    return ApiError(400, message, status="FAILED_PRECONDITION")


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=UTF-8"


@dataclass
class Call:
    emulator: Emulator
    method: str
    path: str
    params: dict[str, str]
    query: QueryParams
    headers: dict[str, str]  # lower-case names
    body: bytes
    base_url: str  # how the client reached us, for URLs we hand back

    def json(self) -> dict[str, Any]:
        """The JSON body; an empty body is ``{}`` (GET and ``:cancel`` carry none)."""
        if not self.body.strip():
            return {}
        try:
            parsed = json.loads(self.body)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ApiError(400, f"Invalid JSON payload received. {error}") from None
        if not isinstance(parsed, dict):
            raise ApiError(400, "Invalid JSON payload received. Expected an object.")
        return parsed


Handler = Callable[[Call], Reply]
