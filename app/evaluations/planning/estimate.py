"""What an evaluation will ask of Gemini before it runs: calls, tokens and (roughly) money.

Tokens are the intake's offline estimate (``app.datasets.quality.tokens``), which errs on the high
side for Japanese. An answer is assumed to be as long as its reference. The judge is asked four
times per judged item (both answer orders, and the rubric for the baseline and the tuned answer).

Inference prices per million tokens are NOT verified: the Vertex AI pricing page could not be
checked when they were written, so every estimate says ``price_source="unverified"``. Models
missing here have no price and their cost is unknown (``cost_usd=None``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from app.datasets.quality.tokens import TURN_OVERHEAD, estimate_text_tokens
from app.genai.generation import Turn

# (input, output) USD per 1M tokens; standard (≤200k context) online prices, unverified. The
# 3.x figures are secondary (an LLM-pricing article verified 2026-08-20, vertex-2026.md §2);
# thinking tokens are billed as output. A tuned 3.x endpoint costs 1.5× its base model (official
# RLFT page and pricing footnote), a tuned 2.x one the base price (interpretation, uncertain).
INFERENCE_PRICES: dict[str, tuple[float, float]] = {
    "gemini-3.5-flash": (1.50, 9.00),
    "gemini-3.1-flash-lite": (0.25, 1.50),
    "gemini-2.5-pro": (1.25, 10.0),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-flash-lite": (0.10, 0.40),
    "gemini-2.0-flash": (0.15, 0.60),
    "gemini-2.0-flash-lite": (0.075, 0.30),
}
PRICE_SOURCE = "unverified"
TUNED_PRICE_MULTIPLIER_3X = 1.5
# Thinking tokens assumed per answer (rough: models think as long as they need up to their
# budget). The minimum Google advises for tuned models spends none.
THINKING_TOKENS = {"minimal": 0, "low": 256, "medium": 1024, "high": 4096, "default": 2048}
JUDGE_CALLS_PER_ITEM = 4
# The judge prompt's own instructions, and the short JSON reply it asks for.
JUDGE_PROMPT_OVERHEAD = 320
JUDGE_REPLY_TOKENS = 60
MIN_ANSWER_TOKENS = 16


class LeakRow(BaseModel):
    """A test question that (nearly) repeats a training question of the tuned model."""

    model_config = ConfigDict(frozen=True)

    example_id: int | None
    kind: str  # exact | near
    position: int
    prompt_excerpt: str
    training_example_id: int
    similarity: float = 1.0


class EvalEstimate(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: int  # test questions that will be asked (leaks excluded unless included)
    excluded_leaks: int
    leaks: list[LeakRow]
    candidates: int
    generation_calls: int  # answers to generate (reused answers not counted)
    reused_answers: int
    judge_calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None  # None when a model's price is unknown
    price_source: str
    thinking_tokens: int = (
        0  # part of output_tokens: what the thinking settings are assumed to cost
    )


@dataclass
class Tally:
    """Tokens and money, added up call by call."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    priced: bool = True

    thinking_tokens: int = 0

    def add(
        self,
        model: str,
        input_tokens: int,
        output_tokens: int,
        calls: int = 1,
        *,
        thinking_tokens: int = 0,
        multiplier: float = 1.0,
    ) -> None:
        output_tokens += thinking_tokens
        self.thinking_tokens += thinking_tokens * calls
        self.input_tokens += input_tokens * calls
        self.output_tokens += output_tokens * calls
        price = INFERENCE_PRICES.get(model)
        if price is None:
            self.priced = False
            return
        per_call = (input_tokens * price[0] + output_tokens * price[1]) / 1_000_000
        self.cost += calls * per_call * multiplier

    @property
    def cost_usd(self) -> float | None:
        return round(self.cost, 4) if self.priced else None


def thinking_tokens(settings: dict[str, object]) -> int:
    """Thinking tokens assumed for one answer with these generation settings."""
    level = settings.get("thinking_level")
    budget = settings.get("thinking_budget")
    if isinstance(level, str):
        return THINKING_TOKENS.get(level, THINKING_TOKENS["default"])
    if isinstance(budget, int):
        return min(budget, THINKING_TOKENS["default"])
    return THINKING_TOKENS["default"]


def tuned_multiplier(base_model: str, tuned: bool) -> float:
    if not tuned:
        return 1.0
    from app.genai.serving import uses_thinking_level  # Gemini 3+: the 1.5× tuned price

    return TUNED_PRICE_MULTIPLIER_3X if uses_thinking_level(base_model) else 1.0


def request_tokens(turns: Sequence[Turn], system_instruction: str) -> int:
    total = sum(estimate_text_tokens(text) + TURN_OVERHEAD for _role, text in turns)
    return total + (estimate_text_tokens(system_instruction) if system_instruction else 0)


def answer_tokens(reference: str) -> int:
    return max(MIN_ANSWER_TOKENS, estimate_text_tokens(reference))


def judge_tokens(question: str, reference: str) -> tuple[int, int]:
    """Input and output tokens of one judge call (answers assumed as long as the reference)."""
    texts = estimate_text_tokens(question) + 3 * estimate_text_tokens(reference)
    return JUDGE_PROMPT_OVERHEAD + texts, JUDGE_REPLY_TOKENS
