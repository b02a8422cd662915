"""Turning whatever the SDKs raise into the gateway's typed errors.

Transient: HTTP 408, 429 and 5xx, timeouts and lost connections. Everything else is permanent,
with the most specific message we can give. ``context`` carries what the caller was doing (the
model, the adapter size, the job…) so the message can name it.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any

import google.auth.exceptions
import httpx2
import requests
from google.api_core import exceptions as api_exceptions
from google.cloud.storage import exceptions as storage_exceptions
from google.genai import errors as genai_errors

from app.genai.errors import (
    AuthGeminiError,
    GeminiError,
    NotFoundGeminiError,
    PermanentGeminiError,
    TransientGeminiError,
)

TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Statuses meaning the server refused before doing anything, so repeating a create is safe.
REJECTED_UNPROCESSED = frozenset({429, 503})
_TIMEOUTS: tuple[type[BaseException], ...] = (httpx2.TimeoutException, requests.Timeout)
_CONNECT: tuple[type[BaseException], ...] = (httpx2.ConnectError, requests.ConnectionError)
_NETWORK: tuple[type[BaseException], ...] = (
    httpx2.TransportError,
    google.auth.exceptions.TransportError,
)
try:  # google-genai uses httpx2; plain httpx only if GOOGLE_GENAI_HTTP_CLIENT=httpx chose it
    import httpx

    _TIMEOUTS += (httpx.TimeoutException,)
    _CONNECT += (httpx.ConnectError,)
    _NETWORK += (httpx.TransportError,)
except ImportError:  # pragma: no cover - httpx is installed wherever tests run
    pass


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number of seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _headers(response: Any) -> Mapping[str, str]:
    headers = getattr(response, "headers", None)
    if headers is None or not hasattr(headers, "get"):
        return {}
    return {str(k).lower(): str(v) for k, v in headers.items()}


def _adapter_choices(details: Any) -> list[int]:
    """Supported sizes if the server listed them (google.rpc.ErrorInfo metadata)."""
    error = details.get("error", {}) if isinstance(details, dict) else {}
    for item in error.get("details", []) if isinstance(error, dict) else []:
        metadata = item.get("metadata", {}) if isinstance(item, dict) else {}
        sizes = metadata.get("supported_adapter_sizes") if isinstance(metadata, dict) else None
        if sizes:
            try:
                return [int(size) for size in str(sizes).split(",")]
            except ValueError:
                return []
    return []


def _permanent(
    code: int, status: str, message: str, details: Any, context: Mapping[str, Any]
) -> PermanentGeminiError:
    raw = f"{code} {status}: {message}"
    lowered = message.lower()
    if code == 401:
        return AuthGeminiError("unauthenticated", raw=raw, http_status=code)
    if code == 403:
        return AuthGeminiError("permission", {"detail": message}, raw=raw, http_status=code)
    if "adapter size" in lowered and context.get("adapter_size"):
        choices = _adapter_choices(details)
        params = {"size": context["adapter_size"], "model": context.get("model", "?")}
        if choices:
            return PermanentGeminiError(
                "adapter_size", {**params, "choices": choices}, raw=raw, http_status=code
            )
        return PermanentGeminiError("adapter_size_unknown", params, raw=raw, http_status=code)
    if "only works in thinking mode" in lowered:
        return PermanentGeminiError(
            "thinking_required", {"model": context.get("model", "?")}, raw=raw, http_status=code
        )
    if code == 404:
        return _not_found(raw, code, context, lowered)
    if status == "FAILED_PRECONDITION" and context.get("operation") == "cancel":
        return PermanentGeminiError("already_ended", raw=raw, http_status=code)
    return PermanentGeminiError("invalid", {"detail": message}, raw=raw, http_status=code)


def _not_found(
    raw: str, code: int, context: Mapping[str, Any], lowered: str
) -> NotFoundGeminiError:
    if ("publisher model" in lowered or context.get("operation") == "generate") and (
        context.get("model")
    ):
        return NotFoundGeminiError(
            "model_not_found",
            {"model": context["model"], "location": context.get("location", "?")},
            raw=raw,
            http_status=code,
        )
    if context.get("operation") == "upload":
        return NotFoundGeminiError(
            "bucket_missing", {"bucket": context.get("bucket", "?")}, raw=raw, http_status=code
        )
    return NotFoundGeminiError(
        "not_found",
        {
            "what": context.get("what", "?"),
            "project": context.get("project", "?"),
            "location": context.get("location", "?"),
        },
        raw=raw,
        http_status=code,
    )


def _from_status(
    code: int,
    status: str,
    message: str,
    details: Any,
    headers: Mapping[str, str],
    context: Mapping[str, Any],
) -> GeminiError:
    if code in TRANSIENT_STATUSES:
        kind = "rate_limited" if code == 429 else "timeout" if code in (408, 504) else "unavailable"
        return TransientGeminiError(
            kind,
            {"attempts": 1},
            raw=f"{code} {status}: {message}",
            http_status=code,
            retry_after=parse_retry_after(headers.get("retry-after")),
            safe_to_repeat=code in REJECTED_UNPROCESSED,
        )
    return _permanent(code, status, message, details, context)


def _api_core_status(error: api_exceptions.GoogleAPICallError) -> str:
    status = getattr(error, "grpc_status_code", None)
    return status.name if status is not None else type(error).__name__


def classify(error: BaseException, context: Mapping[str, Any]) -> GeminiError:
    """The gateway error for an exception raised by google-genai, google-cloud-storage,
    google-auth, requests or httpx."""
    if isinstance(error, GeminiError):
        return error
    if isinstance(error, genai_errors.APIError):
        return _from_status(
            error.code,
            str(error.status or ""),
            str(error.message or ""),
            error.details,
            _headers(error.response),
            context,
        )
    if isinstance(error, api_exceptions.GoogleAPICallError) and error.code is not None:
        return _from_status(
            int(error.code),
            _api_core_status(error),
            error.message,
            {},
            _headers(error.response),
            context,
        )
    if isinstance(error, storage_exceptions.InvalidResponse):
        response = error.response
        code = int(getattr(response, "status_code", 0) or 0)
        return _from_status(
            code or 502, "INVALID_RESPONSE", str(error), {}, _headers(response), context
        )
    if isinstance(error, _TIMEOUTS):
        return TransientGeminiError(
            "timeout", {"attempts": 1}, raw=f"timeout: {error!r}", safe_to_repeat=False
        )
    if isinstance(error, _CONNECT):
        # Nothing reached the server: safe to repeat even a create.
        return TransientGeminiError("unavailable", {"attempts": 1}, raw=f"connection: {error!r}")
    if isinstance(error, _NETWORK):
        return TransientGeminiError(
            "unavailable", {"attempts": 1}, raw=f"network: {error!r}", safe_to_repeat=False
        )
    if isinstance(error, google.auth.exceptions.DefaultCredentialsError):
        return AuthGeminiError("no_credentials", raw=str(error))
    if isinstance(error, google.auth.exceptions.GoogleAuthError):
        return AuthGeminiError("bad_credentials", {"detail": str(error)}, raw=str(error))
    return PermanentGeminiError(
        "unexpected", {"detail": f"{type(error).__name__}: {error}"}, raw=repr(error)
    )
