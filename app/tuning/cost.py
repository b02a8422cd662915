"""What a tuning job will cost and roughly how long it takes (pure: no database).

Vertex bills supervised tuning per training token: the training file's tokens once per epoch.
TuneDesk also counts the validation file once, so the estimate errs on the high side. Token
counts come from the dataset version (an estimate made at intake); Vertex's own count replaces
the estimate once the job has processed its data.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from app.genai import simulation
from app.tuning.catalog import ModelSpec
from app.tuning.recommend import DatasetStats

# When epochs are left to Vertex, the estimate assumes this many (the service picks its own
# number from the dataset size; 3 is what it commonly chooses for text).
ASSUMED_SERVICE_EPOCHS = 3
# Rough wall-clock duration on Vertex: queueing and data processing, then tuning throughput.
# Real runs vary with quota and region; the page says "rough".
VERTEX_OVERHEAD_MINUTES = 15
VERTEX_MINUTES_PER_MILLION_TOKENS = 25


@dataclass(frozen=True)
class Estimate:
    training_tokens: int  # one pass over the training file
    epochs: int
    epochs_assumed: bool  # epochs left to Vertex: ASSUMED_SERVICE_EPOCHS is used
    validation_tokens: int
    billable_tokens: int
    price_per_million: float | None
    cost: float | None
    currency: str
    price_source: str
    price_checked_on: str | None
    price_url: str
    duration_minutes: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def billable_tokens(training_tokens: int, epochs: int, validation_tokens: int) -> int:
    return training_tokens * epochs + validation_tokens


def price(tokens: int, price_per_million: float | None) -> float | None:
    if price_per_million is None:
        return None
    return round(tokens / 1_000_000 * price_per_million, 4)


def _duration_minutes(
    stats: DatasetStats, epochs: int, tokens: int, emulator_time_scale: float | None
) -> int:
    if emulator_time_scale:
        # The offline simulation keeps its own pace (app.genai.simulation), sped up.
        seconds = simulation.job_seconds(stats.train_examples, epochs) / emulator_time_scale
        return max(1, math.ceil(seconds / 60))
    return VERTEX_OVERHEAD_MINUTES + math.ceil(
        tokens / 1_000_000 * VERTEX_MINUTES_PER_MILLION_TOKENS
    )


def estimate(
    stats: DatasetStats,
    model: ModelSpec,
    *,
    epochs: int | None,
    emulator_time_scale: float | None = None,
) -> Estimate:
    """Billable tokens, cost from the catalog price, and a rough duration."""
    used_epochs = epochs or ASSUMED_SERVICE_EPOCHS
    tokens = billable_tokens(stats.train_tokens, used_epochs, stats.validation_tokens)
    return Estimate(
        training_tokens=stats.train_tokens,
        epochs=used_epochs,
        epochs_assumed=epochs is None,
        validation_tokens=stats.validation_tokens,
        billable_tokens=tokens,
        price_per_million=model.price_per_million,
        cost=price(tokens, model.price_per_million),
        currency=model.currency,
        price_source=model.price_source,
        price_checked_on=model.price_checked_on.isoformat() if model.price_checked_on else None,
        price_url=model.price_url,
        duration_minutes=_duration_minutes(stats, used_epochs, tokens, emulator_time_scale),
    )
