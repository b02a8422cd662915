"""Where a model answers and how much it thinks: the piece every caller of a tuned model shares
(evaluations today, a playground tomorrow). No SDK import: ``generation`` uses it.

Facts relied on (shared/reference/vertex-2026.md, checked 2026-12-07):
- A tuned Gemini 3.x model is served only from the multi-region endpoints
  ``https://aiplatform.{us|eu}.rep.googleapis.com`` at location ``us``/``eu``
  (``…/projects/P/locations/us/endpoints/E:generateContent``), never from the regional host; the
  google-genai client must be built with that location, or the call goes to the regional host
  and answers 404 (§1, "Calling a Gemini 3.x tuned model"). google-genai 3.4 picks the
  ``aiplatform.{location}.rep.googleapis.com`` host itself for ``us``/``eu``
  (``_api_client.py``, ``_MULTI_REGIONAL_LOCATIONS``). 2.x tuned models answer on the regional
  host of their endpoint's location. So the location is read from the endpoint's resource name.
- With ``TUNEDESK_VERTEX_BASE_URL`` (emulator, proxy) every call goes to that one host and the
  proxy sees the same ``/v1beta1/projects/…/locations/{us|eu|region}/…`` path.
- Google advises calling tuned models with the minimum thinking: the thinking *level* for
  Gemini 3 and later, the thinking *budget* for 2.5 and older (SFT overview, 2026-09-25).
  Gemini 3.5 Flash accepts ``MINIMAL`` (the RLFT hyperparameter table lists MINIMAL and HIGH);
  2.5 Flash and Flash-Lite turn thinking off with budget 0; 2.5 Pro cannot, its lowest budget
  is 128.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

ThinkingLevel = Literal["minimal", "low", "medium", "high"]
MULTI_REGIONS = frozenset({"us", "eu"})
_ENDPOINT = re.compile(r"^projects/[^/]+/locations/(?P<location>[^/]+)/endpoints/[^/]+$")
_GEMINI_MAJOR = re.compile(r"gemini-(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class Thinking:
    """A thinking setting as sent: a level (Gemini 3+) or a budget in tokens (2.5; 0 = off).
    ``default`` means "send nothing: the model's own default"."""

    level: ThinkingLevel | None = None
    budget: int | None = None

    @property
    def default(self) -> bool:
        return self.level is None and self.budget is None


def generation_of(model_id: str) -> tuple[int, int] | None:
    """(major, minor) of a Gemini model id, e.g. ``gemini-3.5-flash`` → (3, 5)."""
    match = _GEMINI_MAJOR.search(model_id)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def uses_thinking_level(model_id: str) -> bool:
    version = generation_of(model_id)
    return version is not None and version[0] >= 3


def minimum_thinking(model_id: str) -> Thinking:
    """The least thinking ``model_id`` accepts (what Google advises for tuned models)."""
    version = generation_of(model_id)
    if version is None or version < (2, 5):
        return Thinking()  # 2.0 and older do not think
    if version[0] >= 3:
        return Thinking(level="minimal")
    if "pro" in model_id:
        return Thinking(budget=128)
    return Thinking(budget=0)


def endpoint_location(model: str) -> str | None:
    """The location in an endpoint's resource name (``us`` in ``projects/p/locations/us/
    endpoints/1``); None for a base model id."""
    match = _ENDPOINT.match(model)
    return match.group("location") if match else None


def client_location(model: str, configured: str) -> str:
    """The location the SDK client must have to reach ``model``: the endpoint's own location
    (``us``/``eu`` for a tuned 3.x model, the region for 2.x), else the configured region."""
    return endpoint_location(model) or configured


def host_for(location: str, base_url: str = "") -> str:
    """The host a call for ``location`` goes to (a configured base URL wins)."""
    if base_url:
        return base_url
    if location == "global":
        return "https://aiplatform.googleapis.com"
    if location in MULTI_REGIONS:
        return f"https://aiplatform.{location}.rep.googleapis.com"
    return f"https://{location}-aiplatform.googleapis.com"


def ask_tuned(
    *,
    endpoint: str,
    base_model: str,
    turns: Sequence[tuple[str, str]],
    thinking: Thinking | None = None,
    **options: Any,
) -> Any:
    """One answer from a tuned model (or one of its checkpoints) on the host that serves it,
    with ``thinking`` or else the minimum Google advises for its base model."""
    from app.genai.generation import generate

    chosen = thinking if thinking is not None else minimum_thinking(base_model)
    return generate(
        model=endpoint,
        turns=turns,
        thinking_budget=chosen.budget,
        thinking_level=chosen.level,
        **options,
    )
