"""``generateContent`` and ``countTokens`` for base models (``publishers/google/models/…``) and
for tuned endpoints (``endpoints/…``), answering like Vertex where the SDK cares."""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from app.emulator import answers, catalog, judge, timeline
from app.emulator.catalog import DEFAULT_MAX_EXAMPLE_TOKENS
from app.emulator.datasets import DatasetError, Example, read_dataset
from app.emulator.http import ApiError, Call, Reply, project_number
from app.emulator.http import either_case as field
from app.emulator.state import JobRecord, rfc3339
from app.emulator.tokens import FILE_PART_TOKENS, count_tokens, truncate_to_tokens

# Thinking models spend this many "thought" tokens when their budget allows; fewer at a low level.
SIMULATED_THOUGHTS = 96
THINKING_LEVELS = {
    "MINIMAL": 0,
    "LOW": SIMULATED_THOUGHTS // 4,
    "MEDIUM": SIMULATED_THOUGHTS // 2,
    "HIGH": SIMULATED_THOUGHTS,
}
_examples_cache: dict[str, list[Example]] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class Prompt:
    question: str  # the last user turn
    tokens: int


def _content_tokens(content: Any) -> tuple[str, int]:
    if not isinstance(content, dict) or not isinstance(content.get("parts"), list):
        raise ApiError(400, '* GenerateContentRequest.contents: every content needs "parts".')
    texts, tokens = [], 0
    for part in content["parts"]:
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            texts.append(part["text"])
            tokens += count_tokens(part["text"])
        else:
            tokens += FILE_PART_TOKENS
    return "".join(texts), tokens


def read_prompt(body: dict[str, Any]) -> Prompt:
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise ApiError(400, "* GenerateContentRequest.contents: contents is not specified")
    question, tokens = "", 0
    for content in contents:
        text, content_tokens = _content_tokens(content)
        tokens += content_tokens
        role = content.get("role", "user")
        if role not in ("user", "model"):
            raise ApiError(400, f"Please use a valid role: user, model. Got {role!r}.")
        if role == "user":
            question = text
    system = field(body, "systemInstruction")
    if system is not None:
        tokens += _content_tokens(system)[1]
    return Prompt(question, tokens)


def _thinking(body: dict[str, Any], model: catalog.ModelSpec | None) -> int:
    """Thought tokens the answer spends; refuses a setting the model does not take.

    Gemini 3+ takes a thinking *level*, 2.5 a *budget* (vertex-2026.md §1). Whether Vertex also
    accepts a budget on 3.x, or a level on 2.5, is uncertain: the emulator refuses both (the
    stricter choice), and refuses both fields set together, as Google's API does.
    """
    generation = field(body, "generationConfig") or {}
    config = field(generation, "thinkingConfig") or {}
    budget = field(config, "thinkingBudget")
    level = field(config, "thinkingLevel")
    if budget is not None and level is not None:
        raise ApiError(400, "thinking_budget and thinking_level cannot both be set.")
    if model is None or model.thinking == "none":
        return 0
    if model.thinking == "level":
        if budget is not None:
            raise ApiError(
                400, f"thinking_budget is not supported for {model.model_id}; set thinking_level."
            )
        return _level_thoughts(level)
    if level is not None:
        raise ApiError(
            400, f"thinking_level is not supported for {model.model_id}; set thinking_budget."
        )
    return _budget_thoughts(model, budget)


def _level_thoughts(level: Any) -> int:
    if level is None:
        return SIMULATED_THOUGHTS
    if level not in THINKING_LEVELS:
        raise ApiError(400, f"Invalid value at 'thinking_level': {level}.")
    return THINKING_LEVELS[level]


def _budget_thoughts(model: catalog.ModelSpec, budget: Any) -> int:
    if budget is not None and int(budget) == 0:
        if not model.thinking_can_be_off:
            raise ApiError(400, "Budget 0 is invalid. This model only works in thinking mode.")
        return 0
    if budget is not None and 0 < int(budget) < model.min_thinking_budget:
        raise ApiError(
            400,
            f"The thinking budget {budget} is invalid. Please choose a value "
            f"between {model.min_thinking_budget} and 32768.",
        )
    if budget is not None and int(budget) > 0:
        return min(SIMULATED_THOUGHTS, int(budget))
    return SIMULATED_THOUGHTS


def _answer(
    body: dict[str, Any], text: str, prompt: Prompt, thoughts: int, version: str
) -> dict[str, Any]:
    finish = "STOP"
    limit = field(field(body, "generationConfig") or {}, "maxOutputTokens")
    if limit is not None and count_tokens(text) > int(limit):
        text, finish = truncate_to_tokens(text, int(limit)), "MAX_TOKENS"
    output = count_tokens(text)
    usage = {
        "promptTokenCount": prompt.tokens,
        "candidatesTokenCount": output,
        "totalTokenCount": prompt.tokens + output + thoughts,
    }
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": text}]},
                "finishReason": finish,
                "index": 0,
            }
        ],
        "usageMetadata": usage,
        "modelVersion": version,
        "createTime": rfc3339(time.time()),
        "responseId": secrets.token_urlsafe(12),
    }


def _publisher_not_found(call: Call, name: str) -> ApiError:
    return ApiError(
        404,
        f"Publisher Model `projects/{call.params['project']}/locations/"
        f"{call.params['location']}/publishers/{call.params['publisher']}/"
        f"models/{name}` was not found or your project does not have access "
        "to it.",
    )


def _base_model(call: Call) -> catalog.ModelSpec | None:
    name = call.params["model"]
    if call.params.get("publisher", "google") != "google" or not catalog.servable(name):
        raise _publisher_not_found(call, name)
    model = catalog.spec_for(name)
    if model is not None and model.retired():
        # A retired model stops answering (Google's model-versions page); Vertex answers 404
        # for a model a project cannot use, so the emulator does too.
        raise _publisher_not_found(call, name)
    return model


def _endpoint_not_found(call: Call, why: str = "") -> ApiError:
    return ApiError(
        404,
        f"Endpoint `projects/{call.params['project']}/locations/"
        f"{call.params['location']}/endpoints/{call.params['endpoint']}` "
        f"not found.{' ' + why if why else ''}",
    )


def _tuned_job(call: Call) -> JobRecord:
    """The job serving this endpoint, on the location that serves it: a tuned Gemini 3.x model
    answers only at ``locations/us`` or ``locations/eu`` (the multi-region hosts), never at its
    tuning region; a 2.x one at its tuning region (vertex-2026.md §1)."""
    state = call.emulator.state
    job = state.job_for_endpoint(call.params["endpoint"])
    if job is None or timeline.snapshot(job, state.elapsed(job)).state != "JOB_STATE_SUCCEEDED":
        raise _endpoint_not_found(call)
    if project_number(call.params["project"]) != job.project_number:
        raise _endpoint_not_found(call)
    serving = job.serving_location or job.location
    if call.params["location"] != serving:
        raise _endpoint_not_found(call)
    model = catalog.spec_for(job.base_model)
    if model is not None and model.retired():
        # Whether tuned endpoints keep answering once their base model retired is not stated
        # (uncertain): the emulator takes the stricter view, they stop.
        raise _endpoint_not_found(
            call, f"Its base model {model.model_id} was retired on {model.retired_on}."
        )
    return job


def _training_examples(call: Call, job: JobRecord) -> list[Example]:
    """What the tuned model learned: its own file, after its parents' (continuous tuning)."""
    with _cache_lock:
        cached = _examples_cache.get(job.job_id)
    if cached is not None:
        return cached
    parent = call.emulator.state.job(job.parent_job_id) if job.parent_job_id else None
    examples = _training_examples(call, parent) if parent is not None else []
    data = call.emulator.state.read_uri(job.training_uri) or b""
    with contextlib.suppress(DatasetError):  # an unreadable file teaches nothing
        own = read_dataset(data, max_example_tokens=DEFAULT_MAX_EXAMPLE_TOKENS).examples
        examples = own + examples
    with _cache_lock:
        _examples_cache[job.job_id] = examples
    return examples


def generate_base(call: Call) -> Reply:
    model = _base_model(call)
    body = call.json()
    prompt = read_prompt(body)
    thoughts = _thinking(body, model)
    # TuneDesk's AI-judge prompts get a judge's JSON verdict instead of a generic answer.
    text = judge.judge_reply(prompt.question) or answers.base_answer(prompt.question)
    return Reply(
        body=_answer(body, text, prompt, thoughts, catalog.bare_model_id(call.params["model"]))
    )


def generate_tuned(call: Call) -> Reply:
    job = _tuned_job(call)
    body = call.json()
    prompt = read_prompt(body)
    thoughts = _thinking(body, catalog.spec_for(job.base_model))
    text = answers.tuned_answer(prompt.question, _training_examples(call, job))
    return Reply(body=_answer(body, text, prompt, thoughts, f"{job.base_model}-tuned-{job.job_id}"))


def count_base(call: Call) -> Reply:
    _base_model(call)
    return _count(call)


def count_tuned(call: Call) -> Reply:
    _tuned_job(call)
    return _count(call)


def _count(call: Call) -> Reply:
    body = call.json()
    prompt = read_prompt(body)
    characters = sum(
        len(p.get("text", "")) for c in body["contents"] for p in c["parts"] if isinstance(p, dict)
    )
    return Reply(body={"totalTokens": prompt.tokens, "totalBillableCharacters": characters})
