"""The simulated service's model catalog (``models.json``): which models tune, with which adapter
sizes, and how their thinking budget behaves. Models that are not listed still answer
``generateContent`` (any ``gemini-*`` id), but cannot be tuned."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CATALOG_PATH = Path(__file__).with_name("models.json")
ADAPTER_SIZE_NAMES = {
    "ADAPTER_SIZE_ONE": 1,
    "ADAPTER_SIZE_TWO": 2,
    "ADAPTER_SIZE_FOUR": 4,
    "ADAPTER_SIZE_EIGHT": 8,
    "ADAPTER_SIZE_SIXTEEN": 16,
    "ADAPTER_SIZE_THIRTY_TWO": 32,
}
ADAPTER_SIZE_BY_VALUE = {value: name for name, value in ADAPTER_SIZE_NAMES.items()}
DEFAULT_MAX_EXAMPLE_TOKENS = 131072


@dataclass(frozen=True)
class ModelSpec:
    model_id: str
    tunable: bool
    adapter_sizes: tuple[int, ...]
    default_adapter_size: int
    max_example_tokens: int
    thinking_can_be_off: bool
    min_thinking_budget: int


@lru_cache
def _catalog() -> dict[str, ModelSpec]:
    raw = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))["models"]
    return {
        model_id: ModelSpec(
            model_id=model_id,
            tunable=bool(spec["tunable"]),
            adapter_sizes=tuple(spec["adapter_sizes"]),
            default_adapter_size=int(spec["default_adapter_size"]),
            max_example_tokens=int(spec["max_example_tokens"]),
            thinking_can_be_off=bool(spec["thinking_can_be_off"]),
            min_thinking_budget=int(spec["min_thinking_budget"]),
        )
        for model_id, spec in raw.items()
    }


def bare_model_id(name: str) -> str:
    """``publishers/google/models/gemini-2.5-flash`` (or ``models/…``) → ``gemini-2.5-flash``."""
    return name.rsplit("/", 1)[-1]


def spec_for(name: str) -> ModelSpec | None:
    return _catalog().get(bare_model_id(name))


def servable(name: str) -> bool:
    """Whether ``generateContent`` answers for this base model id."""
    return bare_model_id(name).startswith("gemini-")


def tunable_models() -> list[str]:
    return [model_id for model_id, spec in _catalog().items() if spec.tunable]
