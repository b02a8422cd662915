"""Domain errors. Services raise them with a message a person can act on, in the request's
language; ``app.main`` maps them once to an error page, an HTMX toast, or a JSON body."""

from __future__ import annotations


class AppError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class PermissionDenied(AppError):
    status_code = 403
    code = "forbidden"


class ValidationFailed(AppError):
    """One message per form field (or ``"__all__"``)."""

    status_code = 422
    code = "invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


class LoginRequired(Exception):
    """Raised by the session dependency; answered with a redirect to the login page."""
