"""Asking a model: ``generate`` (base model or tuned endpoint) and ``count_tokens``.

Thread-safe: evaluations call ``generate`` from many threads at once (they bound the
concurrency themselves); all calls share the process's one SDK client.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Literal

from google.genai import types as genai_types

from app.genai import convert
from app.genai.common import clients, context_for, http_options, resolve
from app.genai.config import ConnectionConfig
from app.genai.retry import call_with_retries
from app.genai.serving import ThinkingLevel, client_location
from app.genai.types import Generation

Role = Literal["user", "model"]
Turn = tuple[str, str]  # (role, text); role is "user" or "model"
__all__ = ["ThinkingLevel", "Turn", "at_location", "contents", "count_tokens", "generate"]


def contents(turns: Sequence[Turn]) -> list[genai_types.Content]:
    """Few-shot examples and the question as Gemini contents (the last turn is the question)."""
    if not turns:
        raise ValueError("turns must contain at least the question")
    built = []
    for role, text in turns:
        if role not in ("user", "model"):
            raise ValueError(f"turn role must be 'user' or 'model', not {role!r}")
        built.append(genai_types.Content(role=role, parts=[genai_types.Part(text=text)]))
    return built


def at_location(config: ConnectionConfig, model: str) -> ConnectionConfig:
    """The configuration whose client reaches ``model``: a tuned endpoint's own location."""
    location = client_location(model, config.location)
    return config if location == config.location else dataclasses.replace(config, location=location)


def _thinking(budget: int | None, level: ThinkingLevel | None) -> genai_types.ThinkingConfig | None:
    if budget is None and level is None:
        return None
    return genai_types.ThinkingConfig(
        thinking_budget=budget,
        thinking_level=genai_types.ThinkingLevel(level.upper()) if level else None,
    )


def generate(
    *,
    model: str,
    turns: Sequence[Turn],
    system_instruction: str | None = None,
    temperature: float | None = None,
    max_output_tokens: int | None = None,
    thinking_budget: int | None = None,
    thinking_level: ThinkingLevel | None = None,
    config: ConnectionConfig | None = None,
) -> Generation:
    """One answer from ``model``: a base model id (``gemini-2.5-flash``) or a tuned endpoint
    (``projects/…/endpoints/…``, from ``RemoteTuningJob.tuned_endpoint`` or a checkpoint).

    A tuned endpoint is called through a client at the endpoint's own location (``us``/``eu``
    for a tuned Gemini 3.x model: ``app.genai.serving``). Thinking: tuned models answer best with
    the minimum (``serving.minimum_thinking``); ``None`` leaves the model's default.
    ``latency_ms`` measures the successful attempt only.
    """
    config = at_location(resolve(config), model)
    context = context_for(config, operation="generate", model=model, what=model)
    shared = clients(config, context)
    request = genai_types.GenerateContentConfig(
        system_instruction=system_instruction or None,
        temperature=temperature,
        max_output_tokens=max_output_tokens,
        thinking_config=_thinking(thinking_budget, thinking_level),
    )
    prompt = contents(turns)
    timing: dict[str, float] = {}

    def attempt(timeout: float) -> genai_types.GenerateContentResponse:
        started = time.perf_counter()
        response = shared.genai.models.generate_content(
            model=model,
            contents=prompt,
            config=request.model_copy(update={"http_options": http_options(timeout)}),
        )
        timing["latency_ms"] = (time.perf_counter() - started) * 1000
        return response

    response = call_with_retries(
        attempt, policy=config.retry, what=f"generate {model}", context=context
    )
    return convert.generation(response, model=model, latency_ms=timing["latency_ms"])


def count_tokens(
    *,
    model: str,
    turns: Sequence[Turn] | None = None,
    text: str | None = None,
    system_instruction: str | None = None,
    config: ConnectionConfig | None = None,
) -> int:
    """How many input tokens ``model`` counts for a prompt (``turns``, or a plain ``text``)."""
    if (turns is None) == (text is None):
        raise ValueError("pass either turns or text")
    config = at_location(resolve(config), model)
    context = context_for(config, operation="generate", model=model, what=model)
    shared = clients(config, context)
    prompt = contents(turns if turns is not None else [("user", text or "")])

    def attempt(timeout: float) -> int:
        response = shared.genai.models.count_tokens(
            model=model,
            contents=prompt,
            config=genai_types.CountTokensConfig(
                system_instruction=system_instruction or None, http_options=http_options(timeout)
            ),
        )
        return int(response.total_tokens or 0)

    return call_with_retries(
        attempt, policy=config.retry, what=f"count tokens {model}", context=context
    )
