"""Recommended settings for a tuning job, explained in plain language (pure: no database).

The table follows Google's published guidance for supervised fine-tuning of Gemini on text
("Supervised Fine Tuning for Gemini: A best practices guide", Google Cloud blog, January 2025):
- fewer than 1,000 examples whose average input+output is under 500 tokens: more epochs and a
  higher learning-rate multiplier, because a small dataset teaches little per pass;
- 1,000 examples or more, or longer examples: fewer epochs and the default multiplier (1.0);
- adapter size 4 as the usual start; a larger adapter only where the model allows it and the
  dataset is large enough to fill it.
The exact numbers are TuneDesk's starting points in that direction (the blog's figures were for
Gemini 1.5); every knob can also be left unset so that Vertex chooses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from app.i18n import N_, _
from app.tuning.catalog import ModelSpec

SMALL_DATASET_EXAMPLES = 1_000
SHORT_CONTEXT_TOKENS = 500
FEW_EXAMPLES = 100  # below this, more data or a pilot first
VERY_LARGE_EXAMPLES = 10_000
LARGER_ADAPTER_EXAMPLES = 5_000  # enough examples to make use of adapter 8
LARGEST_ADAPTER_EXAMPLES = 20_000  # … and of adapter 16

SMALL_EPOCHS, SMALL_MULTIPLIER = 5, 2.0
LARGE_EPOCHS, LARGE_MULTIPLIER = 3, 1.0
VERY_LARGE_EPOCHS = 2

# What a person may choose instead (Vertex documents no hard ranges; these keep runs sane).
EPOCHS_RANGE = (1, 100)
MULTIPLIER_RANGE = (0.01, 10.0)

KNOB_HELP = {
    "epochs": N_(
        "Epochs: how many times the model reads your examples. More can learn more, but too "
        "many memorises them."
    ),
    "learning_rate_multiplier": N_(
        "Learning-rate multiplier: how big each learning step is, compared with Vertex's "
        "default (1.0). Higher learns faster from few examples but can become unstable."
    ),
    "adapter_size": N_(
        "Adapter size: how much new knowledge the model can hold. Larger can capture more "
        "patterns but needs more examples and costs more to serve."
    ),
}

REASONS = {
    "small_short": N_(
        "Your %(examples)s training examples are few (under 1,000) and short (about %(tokens)s "
        "tokens each, under 500). Google's guidance for such data: more epochs and a higher "
        "learning-rate multiplier, so the model learns enough from each example."
    ),
    "large": N_(
        "With %(examples)s training examples (1,000 or more), fewer epochs and the default "
        "learning-rate multiplier are enough, and they keep the model from memorising."
    ),
    "long": N_(
        "Your examples are long (about %(tokens)s tokens each, 500 or more), so each one teaches "
        "a lot: fewer epochs and the default learning-rate multiplier are recommended."
    ),
    "very_large": N_(
        "With %(examples)s training examples, two passes are usually enough; more would cost "
        "more without learning more."
    ),
    "adapter_default": N_("Adapter size %(size)s is the usual starting point."),
    "adapter_larger": N_(
        "With %(examples)s training examples, %(model)s can make use of a larger adapter "
        "(%(size)s)."
    ),
    "adapter_capped": N_(
        "A larger adapter would suit this much data, but %(model)s allows at most %(size)s."
    ),
    "continued": N_(
        "This run continues from “%(job)s”, which already learned from %(version)s: about half "
        "the epochs (%(epochs)s) and the default learning-rate multiplier add the new examples "
        "without re-memorising the old ones. The adapter size stays the parent's (%(adapter)s)."
    ),
    "pilot": N_(
        "This is a pilot version: a cheap first run to check the data and the settings before "
        "tuning on everything."
    ),
}

WARNINGS = {
    "few_examples": N_(
        "Only %(examples)s training examples. Google suggests starting with about 100 or more: "
        "add examples, or treat this run as a pilot."
    ),
    "no_validation": N_(
        "No validation examples: TuneDesk cannot tell over-fitting from learning. Create a "
        "version with a validation split for a better diagnosis."
    ),
}


@dataclass(frozen=True)
class DatasetStats:
    """What the recommendation looks at, taken from a dataset version."""

    train_examples: int
    validation_examples: int
    test_examples: int
    train_tokens: int
    validation_tokens: int
    mean_tokens: float  # average input+output tokens of a training example
    max_tokens: int
    pilot: bool = False
    modality: str = "text"


@dataclass(frozen=True)
class Note:
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        template = REASONS.get(self.code) or WARNINGS.get(self.code) or self.code
        return _(template) % self.params


@dataclass(frozen=True)
class Recommendation:
    epochs: int
    learning_rate_multiplier: float
    adapter_size: int
    case: str  # small_short | large | long | very_large
    reasons: tuple[Note, ...]
    warnings: tuple[Note, ...]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reasons"] = [asdict(note) for note in self.reasons]
        data["warnings"] = [asdict(note) for note in self.warnings]
        return data

    def values(self) -> dict[str, Any]:
        return {
            "epochs": self.epochs,
            "learning_rate_multiplier": self.learning_rate_multiplier,
            "adapter_size": self.adapter_size,
        }


def _case(stats: DatasetStats) -> tuple[str, int, float]:
    if stats.train_examples >= VERY_LARGE_EXAMPLES:
        return "very_large", VERY_LARGE_EPOCHS, LARGE_MULTIPLIER
    if stats.train_examples >= SMALL_DATASET_EXAMPLES:
        return "large", LARGE_EPOCHS, LARGE_MULTIPLIER
    if stats.mean_tokens >= SHORT_CONTEXT_TOKENS:
        return "long", LARGE_EPOCHS, LARGE_MULTIPLIER
    return "small_short", SMALL_EPOCHS, SMALL_MULTIPLIER


def _adapter(stats: DatasetStats, model: ModelSpec) -> tuple[int, Note]:
    wanted = model.default_adapter_size
    if stats.train_examples >= LARGEST_ADAPTER_EXAMPLES:
        wanted = 16
    elif stats.train_examples >= LARGER_ADAPTER_EXAMPLES:
        wanted = 8
    fitting = [size for size in model.adapter_sizes if size <= wanted]
    size = max(fitting) if fitting else model.default_adapter_size
    size = max(size, model.default_adapter_size)
    examples = stats.train_examples
    if wanted > size:
        return size, Note("adapter_capped", {"model": model.display_name, "size": size})
    if size > model.default_adapter_size:
        return size, Note(
            "adapter_larger", {"examples": examples, "model": model.display_name, "size": size}
        )
    return size, Note("adapter_default", {"size": size})


def recommend(stats: DatasetStats, model: ModelSpec) -> Recommendation:
    case, epochs, multiplier = _case(stats)
    params = {"examples": stats.train_examples, "tokens": round(stats.mean_tokens)}
    reasons = [Note(case, params)]
    adapter, adapter_note = _adapter(stats, model)
    reasons.append(adapter_note)
    if stats.pilot:
        reasons.append(Note("pilot"))
    warnings = []
    if stats.train_examples < FEW_EXAMPLES:
        warnings.append(Note("few_examples", {"examples": stats.train_examples}))
    if stats.validation_examples == 0:
        warnings.append(Note("no_validation"))
    return Recommendation(epochs, multiplier, adapter, case, tuple(reasons), tuple(warnings))


@dataclass(frozen=True)
class Choice:
    """What the person chose; ``None`` means "leave unset: Vertex chooses"."""

    epochs: int | None
    learning_rate_multiplier: float | None
    adapter_size: int | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_choice(choice: Choice, model: ModelSpec) -> dict[str, str]:
    """Per-field problems with a choice (empty when it can be submitted)."""
    errors: dict[str, str] = {}
    if choice.epochs is not None and not EPOCHS_RANGE[0] <= choice.epochs <= EPOCHS_RANGE[1]:
        errors["epochs"] = _("Choose between %(min)s and %(max)s epochs.") % {
            "min": EPOCHS_RANGE[0],
            "max": EPOCHS_RANGE[1],
        }
    multiplier = choice.learning_rate_multiplier
    if multiplier is not None and not MULTIPLIER_RANGE[0] <= multiplier <= MULTIPLIER_RANGE[1]:
        errors["learning_rate_multiplier"] = _(
            "Choose a multiplier between %(min)s and %(max)s (1.0 is Vertex's default)."
        ) % {"min": MULTIPLIER_RANGE[0], "max": MULTIPLIER_RANGE[1]}
    if not model.allows(choice.adapter_size):
        errors["adapter_size"] = _(
            "%(model)s does not accept adapter size %(size)s; choose one of %(sizes)s."
        ) % {
            "model": model.display_name,
            "size": choice.adapter_size,
            "sizes": ", ".join(map(str, model.adapter_sizes)),
        }
    return errors
