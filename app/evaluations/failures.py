"""Why an answer or a run failed, stored as a code and parameters and translated when read."""

from __future__ import annotations

from typing import Any

from app.genai.errors import GeminiError
from app.i18n import N_, gettext

ERROR_MESSAGES = {
    "blocked": N_("The model declined to answer this question (safety filter)."),
    "unexpected": N_("Something unexpected happened while asking the model: %(detail)s"),
    "candidate_failed": N_(
        "“%(candidate)s” could not answer any question: %(reason)s Fix this, then resume the "
        "evaluation; answers already given are kept."
    ),
    "crashed": N_(
        "The evaluation stopped because of an unexpected error (%(detail)s). Resume it to "
        "continue; answers already given are kept."
    ),
}


def error_message(error: dict[str, Any] | None) -> str:
    """An output's or a run's stored error, in the reader's language."""
    if not error:
        return ""
    kind, params = str(error.get("kind", "")), dict(error.get("params") or {})
    if error.get("source") == "gemini":
        return GeminiError(kind, params).user_message
    template = gettext(ERROR_MESSAGES.get(kind, ERROR_MESSAGES["unexpected"]))
    try:
        return template % params
    except (KeyError, TypeError, ValueError):
        return template


def gemini_error(error: GeminiError) -> dict[str, Any]:
    return {"source": "gemini", "kind": error.kind, "params": error.params, "raw": error.raw[:500]}
