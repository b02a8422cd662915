"""Reading catalog YAML into ``ModelSpec``s, collecting every problem with where it is and how
to fix it (translated), so an administrator sees the whole list at once.

Catalogs saved by older releases (no regions, no serving mode, ``status: available`` for models
Google has since retired) still parse: missing fields take the defaults documented in
``catalog.yaml``; the migration of 2026-12 flags retired models in a saved copy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

import yaml

from app.errors import ValidationFailed
from app.genai.types import ADAPTER_SIZES
from app.i18n import _
from app.tuning.catalog_types import STATUSES, TUNED_SERVING, Catalog, ModelSpec

MAX_YAML_BYTES = 200_000
_MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_REGION = re.compile(r"^[a-z]+(-[a-z]+[0-9]+)?$")


class CatalogError(ValidationFailed):
    def __init__(self, problems: list[str]) -> None:
        super().__init__({"yaml_text": " ".join(problems)})
        self.problems = problems


class _Fields:
    """Reads one model's mapping, collecting translated problems instead of stopping at one."""

    def __init__(self, raw: Mapping[str, Any], where: str, problems: list[str]) -> None:
        self.raw, self.where, self.problems = raw, where, problems

    def fail(self, field: str, message: str) -> None:
        self.problems.append(
            _("%(where)s, field “%(field)s”: %(problem)s")
            % {"where": self.where, "field": field, "problem": message}
        )

    def text(self, field: str, required: bool = True, default: str = "") -> str:
        value = self.raw.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(field, _("this field is required."))
            return default
        if not isinstance(value, str | int | float):
            self.fail(field, _("write a single value, not a list or a mapping."))
            return default
        return str(value).strip()

    def integer(self, field: str, minimum: int = 1) -> int:
        value = self.raw.get(field)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(field, _("write a whole number of at least %(min)s.") % {"min": minimum})
            return minimum
        return value

    def number(self, field: str, default: float | None = None) -> float | None:
        value = self.raw.get(field)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            self.fail(field, _("write a number such as 1.5, or leave it out."))
            return default
        return float(value)

    def price(self, field: str) -> float | None:
        value = self.raw.get(field)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            self.fail(field, _("write a price such as 5.00 (no currency sign), or leave it out."))
            return None
        return float(value)

    def day(self, field: str) -> date | None:
        value = self.raw.get(field)
        if value is None or value == "":
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(field, _("write a date as YYYY-MM-DD, for example 2026-02-25."))
            return None

    def choice(self, field: str, options: tuple[str, ...], default: str) -> str:
        value = self.raw.get(field, default)
        if value not in options:
            self.fail(field, _("use one of: %(options)s.") % {"options": ", ".join(options)})
            return default
        return str(value)

    def flag(self, field: str, default: bool) -> bool:
        value = self.raw.get(field, default)
        if not isinstance(value, bool):
            self.fail(field, _("write true or false."))
            return default
        return value

    def regions(self, field: str) -> tuple[str, ...]:
        value = self.raw.get(field)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(
            isinstance(v, str) and _REGION.match(v) for v in value
        ):
            self.fail(field, _("list Google Cloud regions, for example [us-central1]."))
            return ()
        return tuple(value)

    def sizes(self) -> tuple[int, ...]:
        value = self.raw.get("adapter_sizes")
        allowed = ", ".join(map(str, ADAPTER_SIZES))
        if not isinstance(value, list) or not value:
            self.fail("adapter_sizes", _("list the sizes, for example [1, 2, 4, 8]."))
            return ()
        if any(isinstance(v, bool) or v not in ADAPTER_SIZES for v in value):
            self.fail(
                "adapter_sizes", _("each size must be one of %(sizes)s.") % {"sizes": allowed}
            )
            return ()
        return tuple(sorted(set(value)))


def default_serving(model_id: str) -> str:
    """Gemini 3 and later are served from the multi-region endpoints only; older ones from the
    tuning region (vertex-2026.md §1). Used when a catalog does not say."""
    match = re.match(r"gemini-(\d+)", model_id)
    return "multi_region" if match and int(match.group(1)) >= 3 else "regional"


def _model(raw: Any, index: int, problems: list[str]) -> ModelSpec | None:
    where = _("Model %(n)s") % {"n": index + 1}
    if not isinstance(raw, Mapping):
        problems.append(
            _("%(where)s must be a mapping of fields (id, display_name…).") % {"where": where}
        )
        return None
    model_id = str(raw.get("id") or "").strip()
    if model_id:
        where = _("Model “%(id)s”") % {"id": model_id}
    fields = _Fields(raw, where, problems)
    if not _MODEL_ID.match(model_id):
        fields.fail("id", _("use the Vertex model id, such as gemini-3.5-flash."))
    sizes = fields.sizes()
    default_size = fields.integer("default_adapter_size")
    if sizes and default_size not in sizes:
        fields.fail("default_adapter_size", _("it must be one of the model's adapter_sizes."))
    unknown = sorted(set(raw) - _KNOWN_FIELDS)
    if unknown:
        fields.fail(unknown[0], _("this field is not known; check its spelling."))
    return ModelSpec(
        id=model_id,
        display_name=fields.text("display_name"),
        family=fields.text("family", required=False, default="Gemini"),
        adapter_sizes=sizes,
        default_adapter_size=default_size,
        max_example_tokens=fields.integer("max_example_tokens"),
        max_validation_examples=fields.integer("max_validation_examples"),
        price_per_million=fields.price("training_price_per_million_tokens"),
        currency=fields.text("currency", required=False, default="USD").upper(),
        price_checked_on=fields.day("price_checked_on"),
        price_url=fields.text("price_url", required=False),
        price_source=fields.choice("price_source", ("official", "unverified"), "unverified"),
        status=fields.choice("status", STATUSES, "available"),
        retirement_date=fields.day("retirement_date"),
        successor=fields.text("successor", required=False) or None,
        notes=fields.text("notes", required=False),
        max_validation_share=fields.number("max_validation_share"),
        price_note=fields.text("price_note", required=False),
        tuned_serving_price_multiplier=fields.number("tuned_serving_price_multiplier"),
        tuning_regions=fields.regions("tuning_regions"),
        tuned_serving=fields.choice("tuned_serving", TUNED_SERVING, default_serving(model_id)),
        continuous_tuning=fields.flag("continuous_tuning", False),
        release_date=fields.day("release_date"),
    )


_KNOWN_FIELDS = frozenset(
    {
        "id",
        "display_name",
        "family",
        "adapter_sizes",
        "default_adapter_size",
        "max_example_tokens",
        "max_validation_examples",
        "max_validation_share",
        "training_price_per_million_tokens",
        "currency",
        "price_checked_on",
        "price_url",
        "price_source",
        "price_note",
        "tuned_serving_price_multiplier",
        "tuning_regions",
        "tuned_serving",
        "continuous_tuning",
        "status",
        "release_date",
        "retirement_date",
        "successor",
        "notes",
    }
)


def load_yaml(text: str) -> Any:
    if len(text.encode()) > MAX_YAML_BYTES:
        raise CatalogError([_("The catalog is too large (more than 200 KB).")])
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else "?"
        problem = getattr(error, "problem", None) or str(error)
        raise CatalogError(
            [
                _(
                    "The YAML cannot be read at line %(line)s: %(problem)s. Check the "
                    "indentation and the colons."
                )
                % {"line": line, "problem": problem}
            ]
        ) from None


def _successor_problems(models: list[ModelSpec]) -> list[str]:
    # A successor may be retired too (2.0 → 2.5 → 3.5): ``Catalog.successor_of`` follows the
    # chain to a model that can be tuned.
    ids = {model.id for model in models}
    return [
        _("Model “%(id)s”: its successor “%(successor)s” is not in the list.")
        % {"id": model.id, "successor": model.successor}
        for model in models
        if model.successor and model.successor not in ids
    ]


def parse_catalog(text: str, *, source: str = "override") -> Catalog:
    """Validate catalog YAML; raises ``CatalogError`` listing every problem found."""
    data = load_yaml(text)
    if not isinstance(data, Mapping) or not isinstance(data.get("models"), list):
        raise CatalogError([_("The catalog needs a “models:” list at the top level.")])
    problems: list[str] = []
    models = [_model(raw, index, problems) for index, raw in enumerate(data["models"])]
    parsed = [model for model in models if model is not None]
    ids = [model.id for model in parsed]
    if not parsed:
        problems.append(_("List at least one model under “models:”."))
    for model_id in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(_("The model “%(id)s” is listed twice.") % {"id": model_id})
    problems.extend(_successor_problems(parsed))
    default = str(data.get("default_model") or (ids[0] if ids else ""))
    if ids and default not in ids:
        problems.append(_("default_model “%(id)s” is not in the list.") % {"id": default})
    elif any(model.id == default and model.status == "retired" for model in parsed):
        problems.append(
            _("default_model “%(id)s” is retired; choose a model that can be tuned.")
            % {"id": default}
        )
    checked = _Fields(data, _("The catalog"), problems).day("last_checked")
    if problems:
        raise CatalogError(problems)
    return Catalog(tuple(parsed), default, source, checked)
