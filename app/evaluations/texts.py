"""Words for evaluation states, candidate kinds, roles and vote choices, in the reader's
language (rows store codes; pages, exports and the API turn them into words here)."""

from __future__ import annotations

from typing import Any

from app.evaluations.models import CandidateKind, EvalStatus
from app.evaluations.scoring.stats import VOTE_LABELS, HumanVote
from app.i18n import N_, _, format_number, format_percent

STATUS_LABELS = {
    EvalStatus.QUEUED: N_("Queued"),
    EvalStatus.RUNNING: N_("Running"),
    EvalStatus.SUCCEEDED: N_("Finished"),
    EvalStatus.FAILED: N_("Failed"),
    EvalStatus.CANCELLED: N_("Cancelled"),
}
STATUS_TONES = {
    EvalStatus.SUCCEEDED: "success",
    EvalStatus.FAILED: "error",
    EvalStatus.CANCELLED: "neutral",
    EvalStatus.RUNNING: "info",
    EvalStatus.QUEUED: "info",
}
KIND_LABELS = {
    CandidateKind.ZERO_SHOT: N_("Original model, question only"),
    CandidateKind.FEW_SHOT: N_("Original model with examples in the prompt"),
    CandidateKind.SYSTEM: N_("Original model with the project's instruction"),
    CandidateKind.TUNED: N_("Tuned model"),
    CandidateKind.CHECKPOINT: N_("Tuned model checkpoint"),
}
ROLE_LABELS = {"baseline": N_("Baseline"), "tuned": N_("Tuned")}
WINNER_LABELS = {
    "tuned": N_("Tuned better"),
    "baseline": N_("Original better"),
    "tie": N_("Tie"),
    "both_bad": N_("Both bad"),
}
VOTE_KEYS = {
    HumanVote.A: "a",
    HumanVote.B: "b",
    HumanVote.TIE: "t",
    HumanVote.BOTH_BAD: "x",
}


def status_label(status: str) -> str:
    label = STATUS_LABELS.get(status)  # type: ignore[call-overload]
    return _(label) if label else status


def status_tone(status: str) -> str:
    return STATUS_TONES.get(status, "neutral")  # type: ignore[call-overload]


def kind_label(kind: str) -> str:
    label = KIND_LABELS.get(kind)  # type: ignore[call-overload]
    return _(label) if label else kind


def role_label(role: str | None) -> str:
    return _(ROLE_LABELS[role]) if role in ROLE_LABELS else ""


def winner_label(winner: str | None) -> str:
    return _(WINNER_LABELS[winner]) if winner in WINNER_LABELS else "—"


def vote_choices() -> list[tuple[str, str, str]]:
    """(value, label, keyboard key) for the four vote buttons, in button order."""
    return [(choice.value, _(VOTE_LABELS[choice]), VOTE_KEYS[choice]) for choice in HumanVote]


def vote_label(choice: str) -> str:
    label = VOTE_LABELS.get(choice)  # type: ignore[call-overload]
    return _(label) if label else choice


def figure(value: float | None, scale: str = "plain", digits: int = 1) -> str:
    """A score for display: chrF/BLEU as numbers, shares as percentages, missing as a dash."""
    if value is None:
        return "—"
    if scale == "percent":
        return format_percent(value, 0)
    return format_number(round(value, digits), digits)


def interval(low: float | None, high: float | None, scale: str = "plain", digits: int = 1) -> str:
    if low is None or high is None:
        return ""
    return _("95%% CI %(low)s–%(high)s") % {
        "low": figure(low, scale, digits),
        "high": figure(high, scale, digits),
    }


def error_text(error: dict[str, Any] | None) -> str:
    """The stored error of a failed run, as the runner wrote it (a message for people)."""
    if not error:
        return ""
    message = error.get("message")
    return str(message) if message else _("The evaluation stopped because of an error.")


def thinking_label(settings: dict[str, Any]) -> str:
    """How a candidate was asked to think, as recorded with the run."""
    if settings.get("thinking_level"):
        return _("level %(level)s") % {"level": str(settings["thinking_level"]).upper()}
    if settings.get("thinking_budget") is not None:
        budget = int(settings["thinking_budget"])
        return _("off (budget 0)") if budget == 0 else _("budget %(n)s") % {"n": budget}
    return _("the model's default")


def templates_globals() -> dict[str, Any]:
    return {
        "eval_thinking_label": thinking_label,
        "eval_status_label": status_label,
        "eval_status_tone": status_tone,
        "eval_kind_label": kind_label,
        "eval_role_label": role_label,
        "eval_winner_label": winner_label,
        "eval_vote_label": vote_label,
        "eval_figure": figure,
        "eval_interval": interval,
        "eval_error_text": error_text,
    }
