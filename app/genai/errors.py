"""The gateway's errors: what went wrong with Gemini, in words a non-technical user can act on.

Each error has a ``kind`` (a stable code worth storing), ``params``, a ``user_message`` translated
into the current language each time it is read, and ``raw`` (Google's own status and message)
for administrators. ``TransientGeminiError`` means "try again later"; the gateway already retried
it within its budget. Everything else is a ``PermanentGeminiError``: retrying will not help until
someone changes something.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from babel.lists import format_list

from app.errors import AppError
from app.i18n import N_, get_locale, gettext

MESSAGES: dict[str, str] = {
    "unavailable": N_(
        "Google Cloud is busy or cannot be reached right now. Try again in a few minutes."
    ),
    "rate_limited": N_(
        "Vertex AI is receiving too many requests from this project (its quota is "
        "used up for now). Wait a few minutes and try again, or ask your "
        "administrator to raise the quota."
    ),
    "timeout": N_("Vertex AI did not answer in time. Try again in a few minutes."),
    "maybe_created": N_(
        "The connection to Vertex AI broke while the tuning job was being created, so it may "
        "or may not exist. TuneDesk looks it up by its label before trying again, so it is "
        "never created twice."
    ),
    "maybe_created_server": N_(
        "Vertex AI answered with a server error (HTTP %(status)s) while the tuning job was "
        "being created, so it may or may not exist. TuneDesk looks it up by its label before "
        "trying again, so it is never created twice."
    ),
    "unauthenticated": N_(
        "Google Cloud did not accept TuneDesk's credentials (they are missing, "
        "expired or for another account). An administrator can fix this on "
        "the Connection page."
    ),
    "permission": N_(
        "Google Cloud refused access: %(detail)s An administrator should check the "
        "service account's roles (Vertex AI User, Storage Object Admin on the "
        "bucket)."
    ),
    "no_credentials": N_(
        "TuneDesk has no Google Cloud credentials. An administrator can upload a "
        "service-account key or set up Application Default Credentials on the "
        "Connection page."
    ),
    "bad_credentials": N_("The Google Cloud credentials could not be used: %(detail)s"),
    "not_configured": N_(
        "The Gemini connection is not complete: set the %(missing)s on the Connection page."
    ),
    "not_found": N_(
        "%(what)s was not found in Google Cloud project %(project)s "
        "(%(location)s). It may have been deleted, or belong to another project."
    ),
    "model_not_found": N_(
        "The model %(model)s is not available in %(location)s. Choose another model or region."
    ),
    "adapter_size": N_(
        "The adapter size %(size)s is not available for %(model)s; choose %(choices)s."
    ),
    "adapter_size_unknown": N_(
        "The adapter size %(size)s is not available for %(model)s; choose a smaller one."
    ),
    "already_ended": N_("This tuning job has already finished, so it cannot be cancelled."),
    "thinking_required": N_(
        "%(model)s cannot answer with thinking turned off; use its lowest thinking budget instead."
    ),
    "bucket_missing": N_(
        "The Cloud Storage bucket %(bucket)s does not exist, or TuneDesk may not "
        "see it. Check the bucket name on the Connection page."
    ),
    "invalid": N_("Vertex AI refused the request: %(detail)s"),
    "unexpected": N_("Something unexpected happened while talking to Google Cloud: %(detail)s"),
}


def _format_param(name: str, value: Any) -> Any:
    """Lists read naturally in the reader's language: "1, 2, 4, or 8", "1、2、4、または8"."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        items = [str(v) for v in value]
        if name == "choices":
            return format_list(items, style="or", locale=get_locale())
        return format_list(items, style="standard", locale=get_locale())
    return value


class GeminiError(AppError):
    """Base class; ``message`` is fixed at creation, ``user_message`` follows the locale."""

    status_code = 502
    code = "gemini"

    def __init__(
        self,
        kind: str,
        params: Mapping[str, Any] | None = None,
        *,
        raw: str = "",
        http_status: int | None = None,
    ) -> None:
        self.kind = kind
        self.params = dict(params or {})
        self.raw = raw
        self.http_status = http_status
        super().__init__(self.user_message)

    @property
    def user_message(self) -> str:
        template = gettext(MESSAGES.get(self.kind, MESSAGES["unexpected"]))
        values = {key: _format_param(key, value) for key, value in self.params.items()}
        try:
            return template % values
        except (KeyError, TypeError, ValueError):
            return template

    def update(self, kind: str | None = None, **params: Any) -> None:
        """Change the kind or add parameters (the retry loop adds the number of attempts)."""
        self.kind = kind or self.kind
        self.params.update(params)
        self.message = self.user_message
        self.args = (self.message,)

    def __reduce__(self) -> tuple[Any, ...]:
        # Celery pickles exceptions; rebuild from the constructor's arguments.
        return (
            _rebuild,
            (type(self), self.kind, self.params, self.raw, self.http_status, self.__dict__),
        )

    def __str__(self) -> str:
        return f"{self.kind}: {self.raw or self.message}"


def _rebuild(
    cls: type[GeminiError],
    kind: str,
    params: dict[str, Any],
    raw: str,
    http_status: int | None,
    state: dict[str, Any],
) -> GeminiError:
    error = cls(kind, params, raw=raw, http_status=http_status)
    error.__dict__.update(state)
    return error


class TransientGeminiError(GeminiError):
    """Worth retrying later. ``maybe_created``: a create call may have reached Google anyway."""

    status_code = 503
    code = "gemini_unavailable"

    def __init__(
        self,
        kind: str,
        params: Mapping[str, Any] | None = None,
        *,
        raw: str = "",
        http_status: int | None = None,
        retry_after: float | None = None,
        safe_to_repeat: bool = True,
    ) -> None:
        self.retry_after = retry_after
        # False when the request may have been processed (timeouts, 500s): repeating a create
        # could then create a second job.
        self.safe_to_repeat = safe_to_repeat
        self.maybe_created = False
        super().__init__(kind, params, raw=raw, http_status=http_status)


class PermanentGeminiError(GeminiError):
    """Retrying will not help until a setting, the data or the request changes."""

    status_code = 400
    code = "gemini_refused"


class NotFoundGeminiError(PermanentGeminiError):
    status_code = 404
    code = "gemini_not_found"


class AuthGeminiError(PermanentGeminiError):
    """Credentials missing, invalid, or lacking a role."""

    status_code = 502
    code = "gemini_auth"


class ConfigurationGeminiError(PermanentGeminiError):
    """A required setting is empty (project, region, bucket)."""

    status_code = 409
    code = "gemini_not_configured"
