"""The simulated service's model catalog (``models.json``): which models tune, where, with which
adapter sizes, where their tuned models answer, how they take a thinking setting, and which ones
Google retired. Models that are not listed still answer ``generateContent`` (any ``gemini-*``
id), but cannot be tuned."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date
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
MULTI_REGION_OF = {"us-central1": "us", "europe-west4": "eu"}


@dataclass(frozen=True)
class ModelSpec:
    model_id: str
    tunable: bool
    adapter_sizes: tuple[int, ...]
    default_adapter_size: int
    max_example_tokens: int
    thinking_can_be_off: bool
    min_thinking_budget: int
    thinking: str = "budget"  # level (Gemini 3+) | budget (2.5) | none (2.0)
    tuning_regions: tuple[str, ...] = ()  # empty: any region (Google does not say)
    tuned_serving: str = "regional"  # multi_region | regional
    continuous_tuning: bool = False
    retired_on: date | None = None
    successor: str | None = None

    def retired(self, today: date | None = None) -> bool:
        """Retired by today's date (the emulator follows the real calendar)."""
        today = today or date.fromtimestamp(time.time())
        return self.retired_on is not None and self.retired_on <= today

    def tunes_in(self, region: str) -> bool:
        return not self.tuning_regions or region in self.tuning_regions

    def serving_location(self, region: str) -> str:
        """Where a model tuned in ``region`` answers: us/eu for multi-region serving."""
        if self.tuned_serving == "multi_region":
            return MULTI_REGION_OF.get(region, region)
        return region


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
            thinking=str(spec.get("thinking", "budget")),
            tuning_regions=tuple(spec.get("tuning_regions") or ()),
            tuned_serving=str(spec.get("tuned_serving", "regional")),
            continuous_tuning=bool(spec.get("continuous_tuning", False)),
            retired_on=date.fromisoformat(spec["retired"]) if spec.get("retired") else None,
            successor=spec.get("successor"),
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
    """Models Vertex tunes today (retired ones are not offered)."""
    return [
        model_id for model_id, spec in _catalog().items() if spec.tunable and not spec.retired()
    ]
