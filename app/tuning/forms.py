"""The "new tuning job" form: raw text in, a ``Choice`` (or per-field messages) out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel

from app.i18n import _
from app.tuning.recommend import Choice, Recommendation

AUTO = "auto"  # "let Vertex choose"


class JobFormFields(BaseModel):
    """The posted form as text (checkboxes are absent when unticked); parsed by ``JobForm``."""

    version: str = ""
    base_model: str = ""
    name: str = ""
    epochs: str = ""
    auto_epochs: str = ""
    learning_rate_multiplier: str = ""
    auto_multiplier: str = ""
    adapter_size: str = ""
    acknowledge_leakage: str = ""
    planned_for: str = ""
    parent: str = ""
    checkpoint: str = ""


@dataclass(frozen=True)
class JobForm:
    version: str = ""
    base_model: str = ""
    name: str = ""
    epochs: str = ""
    auto_epochs: bool = False
    learning_rate_multiplier: str = ""
    auto_multiplier: bool = False
    adapter_size: str = ""
    acknowledge_leakage: bool = False
    # The version and model the knobs were filled in for: when either changes, the knobs start
    # again from the new recommendation.
    planned_for: str = ""
    # "Improve this model": the job to continue from, and its checkpoint ("" = the served one).
    parent: str = ""
    checkpoint: str = ""

    @classmethod
    def from_mapping(cls, data: Mapping[str, str]) -> JobForm:
        def flag(name: str) -> bool:
            return str(data.get(name, "")).lower() in ("true", "on", "1", "yes")

        return cls(
            version=str(data.get("version", "")).strip(),
            base_model=str(data.get("base_model", "")).strip(),
            name=str(data.get("name", "")),
            epochs=str(data.get("epochs", "")).strip(),
            auto_epochs=flag("auto_epochs"),
            learning_rate_multiplier=str(data.get("learning_rate_multiplier", "")).strip(),
            auto_multiplier=flag("auto_multiplier"),
            adapter_size=str(data.get("adapter_size", "")).strip(),
            acknowledge_leakage=flag("acknowledge_leakage"),
            planned_for=str(data.get("planned_for", "")),
            parent=str(data.get("parent", "")).strip(),
            checkpoint=str(data.get("checkpoint", "")).strip(),
        )

    def version_id(self) -> int | None:
        return int(self.version) if self.version.isdigit() else None

    def parent_id(self) -> int | None:
        return int(self.parent) if self.parent.isdigit() else None

    def plan_key(self, model_id: str) -> str:
        key = f"{self.version}:{model_id}"
        return f"{key}:{self.parent}" if self.parent else key

    def with_recommendation(self, recommendation: Recommendation, model_id: str) -> JobForm:
        """Start from the recommended values unless the knobs were set for this version and
        model already."""
        if self.planned_for == self.plan_key(model_id):
            return self
        return JobForm(
            version=self.version,
            base_model=self.base_model,
            name=self.name,
            epochs=str(recommendation.epochs),
            learning_rate_multiplier=f"{recommendation.learning_rate_multiplier:g}",
            adapter_size=str(recommendation.adapter_size),
            acknowledge_leakage=self.acknowledge_leakage,
            planned_for=self.plan_key(model_id),
            parent=self.parent,
            checkpoint=self.checkpoint,
        )


def parse_choice(form: JobForm) -> tuple[Choice, dict[str, str]]:
    """The knobs as numbers (``None`` = let Vertex choose), with messages for bad text."""
    errors: dict[str, str] = {}
    epochs: int | None = None
    if not form.auto_epochs:
        if form.epochs.isdigit():
            epochs = int(form.epochs)
        else:
            errors["epochs"] = _("Write a whole number of epochs, such as 3, or let Vertex choose.")
    multiplier: float | None = None
    if not form.auto_multiplier:
        try:
            multiplier = float(form.learning_rate_multiplier.replace(",", "."))
        except ValueError:
            errors["learning_rate_multiplier"] = _(
                "Write a number such as 1.0 or 2.5, or let Vertex choose."
            )
    adapter: int | None = None
    if form.adapter_size and form.adapter_size != AUTO:
        if form.adapter_size.isdigit():
            adapter = int(form.adapter_size)
        else:
            errors["adapter_size"] = _("Choose one of the listed adapter sizes.")
    return Choice(epochs, multiplier, adapter), errors
