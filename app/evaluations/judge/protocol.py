"""The AI judge protocol, independent of any SDK.

Pairwise: the judge sees the question, the reference answer and two candidate answers, and
replies ``{"winner": "A"|"B"|"tie", "reason": "..."}``. Judges favour one position, so every pair
is asked twice: first with the original (baseline) model's answer as A and the tuned model's as
B, then swapped. ``combine_orders`` turns the two replies into one verdict for (baseline, tuned):

* both orders name the same model (or both say tie) → that verdict (``agreed``);
* they disagree → ``tie`` (``order_disagreement``): a verdict that flips with the order is
  position bias, not a preference;
* one order failed (unreadable reply, refusal, error) → the other order alone (``single_order``);
* both failed → no verdict (``failed``).

Pointwise rubric (``judge_rubric``): facts against the reference, required format and tone, each
1–5, with a short reason.

The caller passes ``generate(prompt) -> reply text`` (the evaluation task wraps the Gemini gateway
with the configured judge model); this module never imports the gateway. ``generate`` may raise
``JudgeRefused`` for a safety block; an empty reply counts as one too. Any other exception becomes
an ``error`` outcome, except the types in ``propagate`` (a task's time limit, say), which are
re-raised. The judge's reason is stored as written, in the language of the question.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from app.evaluations.judge.prompts import pairwise_prompt
from app.evaluations.judge.replies import (
    clean_reason,
    extract_json_object,
    looks_like_refusal,
    normalize_label,
    raw_excerpt,
)
from app.i18n import N_, _

Generate = Callable[[str], str]

_WINNERS = {
    "a": "A",
    "answer a": "A",
    "b": "B",
    "answer b": "B",
    "tie": "tie",
    "draw": "tie",
    "equal": "tie",
    "both": "tie",
    "neither": "tie",
    "引き分け": "tie",
    "同等": "tie",
    "互角": "tie",
}


class JudgeRefused(Exception):
    """Raised by a ``generate`` callable when the model's answer was blocked (safety filters)."""


class Outcome(StrEnum):
    """What one judge call produced."""

    A = "A"
    B = "B"
    TIE = "tie"
    UNPARSEABLE = "unparseable"
    REFUSED = "refused"
    ERROR = "error"


FAILED_OUTCOMES = frozenset({Outcome.UNPARSEABLE, Outcome.REFUSED, Outcome.ERROR})


class Side(StrEnum):
    """Which model a verdict favours."""

    BASELINE = "baseline"
    TUNED = "tuned"
    TIE = "tie"


class VerdictStatus(StrEnum):
    AGREED = "agreed"
    ORDER_DISAGREEMENT = "order_disagreement"
    SINGLE_ORDER = "single_order"
    FAILED = "failed"


OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.A: N_("Answer A is better"),
    Outcome.B: N_("Answer B is better"),
    Outcome.TIE: N_("Both answers are equally good"),
    Outcome.UNPARSEABLE: N_("The judge's reply could not be read"),
    Outcome.REFUSED: N_("The judge model declined to answer (safety filter)"),
    Outcome.ERROR: N_("The judge model could not be reached"),
}
SIDE_LABELS: dict[Side, str] = {
    Side.BASELINE: N_("Original model is better"),
    Side.TUNED: N_("Tuned model is better"),
    Side.TIE: N_("Tie"),
}
STATUS_LABELS: dict[VerdictStatus, str] = {
    VerdictStatus.AGREED: N_("Same verdict with the answers in either order"),
    VerdictStatus.ORDER_DISAGREEMENT: N_(
        "The verdict changed when the answers were swapped, so it counts as a tie"
    ),
    VerdictStatus.SINGLE_ORDER: N_("Only one of the two answer orders could be judged"),
    VerdictStatus.FAILED: N_("The judge could not give a verdict"),
}


class PairwiseReply(BaseModel):
    """One judge call: the outcome, the judge's reason, and what it replied (for support)."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    reason: str = ""
    raw: str = ""
    error: str = ""  # exception type and message when the call itself failed

    @property
    def failed(self) -> bool:
        return self.outcome in FAILED_OUTCOMES

    def label(self) -> str:
        return _(OUTCOME_LABELS[self.outcome])


class OrderResult(BaseModel):
    """A reply with the side each letter stood for in that call."""

    model_config = ConfigDict(frozen=True)

    a_side: Side  # BASELINE in the first order, TUNED in the swapped one
    reply: PairwiseReply

    @property
    def winner(self) -> Side | None:
        outcome = self.reply.outcome
        if outcome is Outcome.TIE:
            return Side.TIE
        if outcome is Outcome.A:
            return self.a_side
        if outcome is Outcome.B:
            return Side.TUNED if self.a_side is Side.BASELINE else Side.BASELINE
        return None


class PairwiseVerdict(BaseModel):
    """The combined verdict for one question. JSON-serialisable for storage."""

    model_config = ConfigDict(frozen=True)

    winner: Side | None  # None only when both orders failed
    status: VerdictStatus
    first: OrderResult  # A = baseline, B = tuned
    second: OrderResult  # A = tuned, B = baseline
    reason: str  # the reason to show: from the first usable order
    reason_a_side: Side | None  # which model "A" means in ``reason``

    @property
    def flagged(self) -> bool:
        """Worth a human look: the orders disagreed or one of them failed."""
        return self.status is not VerdictStatus.AGREED

    def label(self) -> str:
        if self.winner is None:
            return _(STATUS_LABELS[VerdictStatus.FAILED])
        return _(SIDE_LABELS[self.winner])

    def status_label(self) -> str:
        return _(STATUS_LABELS[self.status])


def parse_pairwise_reply(text: str) -> PairwiseReply:
    """Read a pairwise reply; never raises."""
    verdict = extract_json_object(text, "winner")
    if verdict is None:
        outcome = Outcome.REFUSED if looks_like_refusal(text) else Outcome.UNPARSEABLE
        return PairwiseReply(outcome=outcome, raw=raw_excerpt(text))
    winner = _WINNERS.get(normalize_label(verdict.get("winner")))
    if winner is None:
        return PairwiseReply(outcome=Outcome.UNPARSEABLE, raw=raw_excerpt(text))
    return PairwiseReply(
        outcome=Outcome(winner), reason=clean_reason(verdict.get("reason")), raw=raw_excerpt(text)
    )


class CallFailure(BaseModel):
    """A judge call that produced no reply text."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome  # REFUSED or ERROR
    error: str


def run_generate(
    generate: Generate, prompt: str, propagate: tuple[type[BaseException], ...] = ()
) -> str | CallFailure:
    """The reply text, or why there is none. Only ``propagate`` exceptions escape."""
    try:
        text = generate(prompt)
    except propagate:
        raise
    except JudgeRefused as refusal:
        return CallFailure(outcome=Outcome.REFUSED, error=_error_text(refusal))
    except Exception as error:
        return CallFailure(outcome=Outcome.ERROR, error=_error_text(error))
    if not isinstance(text, str):
        return CallFailure(outcome=Outcome.ERROR, error=f"reply is {type(text).__name__}")
    return text


def _error_text(error: BaseException) -> str:
    return raw_excerpt(f"{type(error).__name__}: {error}")[:500]


def ask_pairwise(
    generate: Generate, prompt: str, propagate: tuple[type[BaseException], ...] = ()
) -> PairwiseReply:
    reply = run_generate(generate, prompt, propagate)
    if isinstance(reply, CallFailure):
        return PairwiseReply(outcome=reply.outcome, error=reply.error)
    return parse_pairwise_reply(reply)


def combine_orders(first: PairwiseReply, second: PairwiseReply) -> PairwiseVerdict:
    """One verdict for (baseline, tuned) from the reply with baseline as A (``first``) and the
    reply with tuned as A (``second``)."""
    one = OrderResult(a_side=Side.BASELINE, reply=first)
    two = OrderResult(a_side=Side.TUNED, reply=second)
    usable = [order for order in (one, two) if order.winner is not None]
    shown = usable[0] if usable else None
    if len(usable) == 2:
        agreed = one.winner == two.winner
        winner = one.winner if agreed else Side.TIE
        status = VerdictStatus.AGREED if agreed else VerdictStatus.ORDER_DISAGREEMENT
    elif shown is not None:
        winner, status = shown.winner, VerdictStatus.SINGLE_ORDER
    else:
        winner, status = None, VerdictStatus.FAILED
    return PairwiseVerdict(
        winner=winner,
        status=status,
        first=one,
        second=two,
        reason=shown.reply.reason if shown else "",
        reason_a_side=shown.a_side if shown else None,
    )


def judge_pairwise(
    *,
    question: str,
    reference: str,
    baseline: str,
    tuned: str,
    generate: Generate,
    propagate: tuple[type[BaseException], ...] = (),
) -> PairwiseVerdict:
    """Ask the judge in both orders and combine the replies. Never raises except ``propagate``."""
    baseline_first = pairwise_prompt(question, reference, baseline, tuned)
    tuned_first = pairwise_prompt(question, reference, tuned, baseline)
    first = ask_pairwise(generate, baseline_first, propagate)
    second = ask_pairwise(generate, tuned_first, propagate)
    return combine_orders(first, second)
