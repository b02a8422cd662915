"""What the model catalog says about one model (``ModelSpec``) and about all of them
(``Catalog``); pure data with the rules that follow from it (regions, retirement, serving)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.db import utcnow

STATUSES = ("available", "deprecated", "retired")
TUNED_SERVING = ("multi_region", "regional")
# Where a tuned Gemini 3.x model is served from, by tuning region: the multi-region location
# whose host is https://aiplatform.{us|eu}.rep.googleapis.com (vertex-2026.md §1).
MULTI_REGION_OF = {"us-central1": "us", "europe-west4": "eu"}
STALE_AFTER_DAYS = 90


@dataclass(frozen=True)
class ModelSpec:
    id: str
    display_name: str
    family: str
    adapter_sizes: tuple[int, ...]
    default_adapter_size: int
    max_example_tokens: int
    max_validation_examples: int
    price_per_million: float | None
    currency: str
    price_checked_on: date | None
    price_url: str
    price_source: str  # official | unverified
    status: str  # available | deprecated | retired
    retirement_date: date | None
    successor: str | None
    notes: str
    max_validation_share: float | None = None
    price_note: str = ""
    tuned_serving_price_multiplier: float | None = None
    tuning_regions: tuple[str, ...] = ()  # empty: Google does not say
    tuned_serving: str = "regional"  # multi_region | regional
    continuous_tuning: bool = False
    release_date: date | None = None

    @property
    def deprecated(self) -> bool:
        return self.status == "deprecated"

    @property
    def price_verified(self) -> bool:
        return self.price_source == "official" and self.price_per_million is not None

    def retired(self, today: date | None = None) -> bool:
        """Retired on Vertex: said so, or its retirement date has passed."""
        if self.status == "retired":
            return True
        return self.retirement_date is not None and self.retirement_date <= (
            today or utcnow().date()
        )

    def allows(self, adapter_size: int | None) -> bool:
        return adapter_size is None or adapter_size in self.adapter_sizes

    def tunes_in(self, region: str) -> bool:
        """Whether Vertex tunes this model in ``region`` (True when the catalog does not say)."""
        return not self.tuning_regions or region in self.tuning_regions

    @property
    def multi_region_serving(self) -> bool:
        return self.tuned_serving == "multi_region"

    def serving_location(self, region: str) -> str:
        """The location a model tuned in ``region`` answers at: ``us``/``eu`` for 3.x, else the
        region itself."""
        if self.multi_region_serving:
            return MULTI_REGION_OF.get(region, region)
        return region


@dataclass(frozen=True)
class Catalog:
    models: tuple[ModelSpec, ...]
    default_model: str
    source: str  # "shipped" | "override"
    last_checked: date | None = None

    def get(self, model_id: str) -> ModelSpec | None:
        return next((model for model in self.models if model.id == model_id), None)

    def choices(self) -> list[ModelSpec]:
        """Models offered for new jobs (retired ones cannot be chosen): available first."""
        usable = [model for model in self.models if not model.retired()]
        return sorted(usable, key=lambda m: (m.deprecated, m.id != self.default_model, m.id))

    def retired_models(self) -> list[ModelSpec]:
        return [model for model in self.models if model.retired()]

    def successor_of(self, model_id: str) -> ModelSpec | None:
        """The model to re-tune on instead of ``model_id`` (following retired successors)."""
        model, seen = self.get(model_id), set()
        while model is not None and model.retired() and model.successor and model.id not in seen:
            seen.add(model.id)
            model = self.get(model.successor)
        usable = model is not None and model.id != model_id and not model.retired()
        return model if usable else None

    def days_since_check(self, today: date | None = None) -> int | None:
        if self.last_checked is None:
            return None
        return ((today or utcnow().date()) - self.last_checked).days

    def stale(self, today: date | None = None) -> bool:
        """Not compared with Google's pages for more than 90 days (or never said)."""
        days = self.days_since_check(today)
        return days is None or days > STALE_AFTER_DAYS
