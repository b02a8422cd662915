"""The pieces every emulator route shares: the call it receives, the reply it gives, and
Google-style errors (``{"error": {"code", "message", "status"}}``, the only error shape the SDKs
parse)."""

from __future__ import annotations

import hashlib
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


def project_number(project: str) -> str:
    """Vertex answers with project numbers; derive a stable one from a project id."""
    if project.isdigit():
        return project
    digest = hashlib.sha256(project.encode()).hexdigest()
    return str(100_000_000_000 + int(digest, 16) % 900_000_000_000)


def either_case(mapping: dict[str, Any], camel: str) -> Any:
    """A field in either spelling: google-genai sends nested members in snake_case
    (``thinking_budget``, ``preTunedModel.tuned_model_name``: ``_common.convert_to_dict`` does
    not camel-case nested pydantic dumps), and Google's JSON parsing accepts both, so the
    emulator must too."""
    if camel in mapping:
        return mapping[camel]
    snake = "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in camel)
    return mapping.get(snake)
