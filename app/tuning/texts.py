"""Words for states, run-log events and errors. Rows store codes and parameters; these functions
turn them into the reader's language when a page, an e-mail or the API shows them."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from babel import dates

from app.genai.errors import MESSAGES as GATEWAY_MESSAGES
from app.genai.errors import GeminiError, PermanentGeminiError
from app.i18n import N_, _, format_number, get_locale
from app.tuning.models import JobState

STATE_LABELS = {
    JobState.AWAITING_APPROVAL: N_("Awaiting approval"),
    JobState.QUEUED: N_("Queued"),
    JobState.LAUNCHING: N_("Launching"),
    JobState.PENDING: N_("Pending"),
    JobState.RUNNING: N_("Running"),
    JobState.SUCCEEDED: N_("Succeeded"),
    JobState.FAILED: N_("Failed"),
    JobState.CANCELLING: N_("Cancelling"),
    JobState.CANCELLED: N_("Cancelled"),
}
STATE_TONES = {
    JobState.AWAITING_APPROVAL: "warning",
    JobState.SUCCEEDED: "success",
    JobState.FAILED: "error",
    JobState.CANCELLED: "neutral",
    JobState.CANCELLING: "warning",
}
SUB_STATE_LABELS = {
    "TUNING_JOB_STATE_WAITING_FOR_QUOTA": N_("waiting for quota"),
    "TUNING_JOB_STATE_PROCESSING_DATASET": N_("processing the dataset"),
    "TUNING_JOB_STATE_WAITING_FOR_CAPACITY": N_("waiting for capacity"),
    "TUNING_JOB_STATE_TUNING": N_("tuning"),
    "TUNING_JOB_STATE_POST_PROCESSING": N_("finishing (post-processing)"),
}

EVENT_TEXTS = {
    "created": N_("%(user)s created the job."),
    "approval_requested": N_("Waiting for a manager's approval."),
    "approved": N_("%(user)s approved the launch."),
    "declined": N_("%(user)s declined the launch."),
    "queued": N_("Queued for launch."),
    "launch_started": N_("A worker started the launch (attempt %(attempt)s)."),
    "uploaded": N_("Uploaded the training files to Cloud Storage (%(examples)s examples)."),
    "remote_created": N_("Created the tuning job on Vertex AI (%(name)s)."),
    "remote_adopted": N_(
        "Found the tuning job already created on Vertex AI (%(name)s) after an interruption; "
        "no second job was created."
    ),
    "launch_retry": N_("Launch interrupted: %(error)s TuneDesk will try again."),
    "launch_failed": N_("The launch failed: %(error)s"),
    "state_changed": N_("Status: %(from_label)s → %(to_label)s."),
    "sub_state": N_("Vertex AI is %(label)s."),
    "progress": N_("Step %(done)s of %(total)s done."),
    "data_stats": N_(
        "Vertex AI read the data: %(examples)s examples, %(tokens)s billable tokens per epoch, "
        "%(affected)s cut or dropped."
    ),
    "checkpoints": N_("%(count)s checkpoints saved."),
    "succeeded": N_("The tuned model is ready."),
    "failed": N_("The job failed: %(error)s"),
    "cancel_requested": N_("%(user)s asked to cancel the job."),
    "cancel_sent": N_("Vertex AI was asked to stop the job."),
    "cancelled": N_("The job was cancelled."),
    "record_failed": N_(
        "Vertex AI created the job (%(name)s) but TuneDesk could not save its name; the job is "
        "marked failed so it can be cancelled from here."
    ),
    "remote_cancel_sent": N_("Vertex AI was asked to stop the unrecorded job %(name)s."),
    "checkpoint_served": N_("%(user)s made checkpoint %(checkpoint)s the served checkpoint."),
    "metrics_unavailable": N_("The training curves cannot be read: %(note)s"),
}

REMOTE_ERRORS = {
    "dataset_invalid": N_(
        "Vertex AI could not use the training file: %(detail)s Fix the examples, create a new "
        "version and launch again."
    ),
    "file_unreadable": N_(
        "Vertex AI could not read the training file in Cloud Storage. An administrator should "
        "check that the tuning service account may read the bucket."
    ),
    "internal": N_(
        "Vertex AI hit an internal error while tuning (at step %(step)s). Nothing is wrong with "
        "your data: launch the job again."
    ),
    "quota": N_(
        "The Google Cloud project has no tuning quota left in this region. Ask your "
        "administrator to request more quota, or try again later."
    ),
    "permission": N_(
        "Google Cloud refused the tuning job for lack of permission. An administrator should "
        "check the service account's roles."
    ),
    "timeout": N_("The tuning job ran out of time on Vertex AI. Launch it again."),
    "cancelled": N_("The job was cancelled."),
    "other": N_("Vertex AI stopped the job: %(detail)s"),
}
_STEP = re.compile(r"at step (\d+)")
_RPC_CODES = {
    1: "cancelled",
    4: "timeout",
    7: "permission",
    8: "quota",
    13: "internal",
    14: "internal",
}


def format_day(value: date | None) -> str:
    """A calendar date in the reader's language (2026年2月25日, Feb 25, 2026)."""
    if value is None:
        return ""
    return str(dates.format_date(value, format="medium", locale=get_locale()))


def state_label(state: str) -> str:
    label = STATE_LABELS.get(JobState(state)) if state in JobState._value2member_map_ else None
    return _(label) if label else state


def state_tone(state: str) -> str:
    return (
        STATE_TONES.get(JobState(state), "info") if state in JobState._value2member_map_ else "info"
    )


def sub_state_label(sub_state: str | None) -> str:
    if not sub_state:
        return ""
    label = SUB_STATE_LABELS.get(sub_state)
    return (
        _(label) if label else sub_state.removeprefix("TUNING_JOB_STATE_").replace("_", " ").lower()
    )


def remote_error(code: int | None, message: str) -> dict[str, Any]:
    """Classify the error Vertex reported on a job (``code`` is a google.rpc code)."""
    text = message or ""
    if (
        "Dataset validation failed" in text
        or "not valid JSON" in text
        or "dataset is empty" in text
    ):
        kind = "dataset_invalid"
        detail = text.split(": ", 1)[-1]
    elif text.startswith("Cannot read gs://"):
        kind, detail = "file_unreadable", ""
    else:
        kind, detail = _RPC_CODES.get(code or 0, "other"), text
    params: dict[str, Any] = {"detail": detail}
    if match := _STEP.search(text):
        params["step"] = int(match.group(1))
    else:
        params["step"] = "?"
    return {"source": "vertex", "code": kind, "params": params, "raw": text, "rpc_code": code}


def gateway_error(error: GeminiError) -> dict[str, Any]:
    """A gateway error, stored as its kind and parameters (translated when shown)."""
    params = {k: v for k, v in error.params.items() if isinstance(v, str | int | float | list)}
    return {"source": "gateway", "code": error.kind, "params": params, "raw": error.raw}


def error_text(error: dict[str, Any] | None) -> str:
    """An error stored on a job or an event, in the reader's language."""
    if not error:
        return ""
    if error.get("source") == "gateway" and error.get("code") in GATEWAY_MESSAGES:
        return PermanentGeminiError(str(error["code"]), error.get("params") or {}).user_message
    if error.get("source") == "tuning":
        try:
            return _(str(error.get("message") or "")) % (error.get("params") or {})
        except (KeyError, TypeError, ValueError):
            return _(str(error.get("message") or ""))
    template = REMOTE_ERRORS.get(str(error.get("code")), REMOTE_ERRORS["other"])
    params = {"detail": error.get("raw") or "", "step": "?", **(error.get("params") or {})}
    try:
        return _(template) % params
    except (KeyError, TypeError, ValueError):
        return str(error.get("raw") or "")


def event_text(kind: str, params: dict[str, Any]) -> str:
    template = EVENT_TEXTS.get(kind)
    if template is None:
        return kind
    shown = dict(params)
    if kind == "state_changed":
        shown["from_label"] = state_label(str(params.get("from", "")))
        shown["to_label"] = state_label(str(params.get("to", "")))
    if kind == "sub_state":
        shown["label"] = sub_state_label(params.get("sub_state"))
    if "error" in params:
        shown["error"] = error_text(params["error"])
    for key in ("examples", "tokens", "affected", "done", "total", "count"):
        if isinstance(shown.get(key), int):
            shown[key] = format_number(shown[key])
    try:
        return _(template) % shown
    except (KeyError, TypeError, ValueError):
        return _(template)
