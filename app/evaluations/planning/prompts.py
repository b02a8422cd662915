"""How a candidate is asked one test question (pure: no database).

A test example becomes an item: its prompt is every turn but the last model turn, its reference
that last model turn. A candidate's request is the item's prompt, prefixed by the few-shot
examples for a few-shot candidate and under the project's system instruction for a "system"
candidate. ``answer_key`` names "this model asked this way": two evaluations with the same key
and the same ``prompt_hash`` would send the same request, so the second reuses the first answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.evaluations.models import CandidateKind
from app.genai.generation import ThinkingLevel, Turn
from app.genai.serving import Thinking, minimum_thinking, uses_thinking_level

# Deterministic answers: the comparison is about the model, not about sampling luck.
TEMPERATURE = 0.0
MAX_OUTPUT_TOKENS = 2048
TUNED_KINDS = frozenset({CandidateKind.TUNED, CandidateKind.CHECKPOINT})
BASE_KINDS = frozenset({CandidateKind.ZERO_SHOT, CandidateKind.FEW_SHOT, CandidateKind.SYSTEM})


@dataclass(frozen=True)
class ItemPrompt:
    """One test question as the evaluation stores it."""

    system_instruction: str
    turns: list[dict[str, str]]  # without the answer
    reference: str
    tag: str | None

    @property
    def question(self) -> str:
        """The last user turn: what the judge and the screens show as "the question"."""
        users = [t["text"] for t in self.turns if t.get("role") == "user"]
        return users[-1] if users else ""


def item_from_content(content: Mapping[str, Any]) -> ItemPrompt | None:
    """An item from a frozen example ({"system_instruction", "turns", "tag"}); None when the
    example has no model turn to serve as reference or no question before it."""
    turns = [t for t in content.get("turns") or [] if isinstance(t, dict)]
    last_model = max((i for i, t in enumerate(turns) if t.get("role") == "model"), default=None)
    if last_model is None:
        return None
    prompt = [{"role": str(t["role"]), "text": str(t.get("text", ""))} for t in turns[:last_model]]
    if not any(t["role"] == "user" for t in prompt):
        return None
    return ItemPrompt(
        system_instruction=str(content.get("system_instruction") or ""),
        turns=prompt,
        reference=str(turns[last_model].get("text", "")),
        tag=content.get("tag") or None,
    )


def _digest(payload: Any) -> str:
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def prompt_hash(system_instruction: str, turns: Sequence[Mapping[str, str]]) -> str:
    return _digest({"system": system_instruction, "turns": [[t["role"], t["text"]] for t in turns]})


@dataclass(frozen=True)
class Settings:
    """Generation settings that change answers (part of ``answer_key``)."""

    temperature: float = TEMPERATURE
    max_output_tokens: int = MAX_OUTPUT_TOKENS
    thinking_budget: int | None = None
    thinking_level: ThinkingLevel | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "max_output_tokens": self.max_output_tokens,
            "thinking_budget": self.thinking_budget,
            "thinking_level": self.thinking_level,
        }


THINKING_CHOICES = ("minimum", "default", "low", "medium", "high")


def settings_for(kind: str, base_model: str, thinking: str = "minimum") -> Settings:
    """Tuned models are asked with the minimum thinking Google advises (a level for Gemini 3+,
    budget 0 for 2.5 Flash, 128 for 2.5 Pro: ``app.genai.serving.minimum_thinking``). A base
    candidate gets the thinking chosen on the form; the default is the same minimum, so the
    comparison is fair. Levels other than the minimum apply to Gemini 3+ only."""
    if kind in TUNED_KINDS or thinking == "minimum":
        chosen = minimum_thinking(base_model)
    elif thinking in ("low", "medium", "high") and uses_thinking_level(base_model):
        chosen = Thinking(level=thinking)  # type: ignore[arg-type]
    else:
        chosen = Thinking()  # the model's own default
    return Settings(thinking_budget=chosen.budget, thinking_level=chosen.level)


def answer_key(
    *,
    model: str,
    kind: str,
    few_shot_ids: Sequence[int],
    system_instruction: str,
    settings: Settings,
) -> str:
    return _digest(
        {
            "model": model,
            "kind": kind,
            "few_shot": list(few_shot_ids),
            "system": system_instruction,
            "settings": settings.as_dict(),
        }
    )


def few_shot_turns(examples: Sequence[Mapping[str, Any]]) -> list[Turn]:
    """The few-shot examples as alternating turns placed before the question."""
    turns: list[Turn] = []
    for example in examples:
        for turn in example.get("turns") or []:
            if turn.get("role") in ("user", "model"):
                turns.append((turn["role"], str(turn.get("text", ""))))
    return turns


def request(
    prompt_config: Mapping[str, Any], system_instruction: str, turns: Sequence[Mapping[str, str]]
) -> tuple[list[Turn], str]:
    """What is sent for one item: the turns and the system instruction."""
    own_system = str(prompt_config.get("system_instruction") or "")
    system = "\n\n".join(part for part in (own_system, system_instruction) if part)
    sent = few_shot_turns(prompt_config.get("examples") or [])
    sent += [(t["role"], t["text"]) for t in turns if t.get("role") in ("user", "model")]
    return sent, system
