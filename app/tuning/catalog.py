"""The model catalog: which Gemini base models tune, with their limits and training price.

The shipped list is ``catalog.yaml`` beside this module; an administrator's edited copy
(``CatalogOverride``) wins over it. Both go through ``parse_catalog``, which refuses anything a
launch could trip over (unknown adapter sizes, a default size the model does not allow, a
successor that is not listed…) with one message per problem saying where and how to fix it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import User
from app.db import new_session, utcnow
from app.errors import ValidationFailed
from app.genai.types import ADAPTER_SIZES
from app.i18n import N_, _
from app.tuning.models import CatalogOverride

AUDIT_ACTIONS = {
    "tuning_catalog.update": N_("Edited the tuning model catalog"),
    "tuning_catalog.reset": N_("Restored the shipped tuning model catalog"),
}

SHIPPED_PATH = Path(__file__).with_name("catalog.yaml")
OVERRIDE_ID = 1
CACHE_SECONDS = 5.0
MAX_YAML_BYTES = 200_000
_MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


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
    status: str  # available | deprecated
    retirement_date: date | None
    successor: str | None
    notes: str

    @property
    def deprecated(self) -> bool:
        return self.status == "deprecated"

    @property
    def price_verified(self) -> bool:
        return self.price_source == "official" and self.price_per_million is not None

    def retired(self, today: date | None = None) -> bool:
        return self.retirement_date is not None and self.retirement_date <= (
            today or utcnow().date()
        )

    def allows(self, adapter_size: int | None) -> bool:
        return adapter_size is None or adapter_size in self.adapter_sizes


@dataclass(frozen=True)
class Catalog:
    models: tuple[ModelSpec, ...]
    default_model: str
    source: str  # "shipped" | "override"

    def get(self, model_id: str) -> ModelSpec | None:
        return next((model for model in self.models if model.id == model_id), None)

    def choices(self) -> list[ModelSpec]:
        """Models offered for new jobs: available ones first, deprecated ones after."""
        return sorted(self.models, key=lambda m: (m.deprecated, m.retired(), m.family, m.id))


class CatalogError(ValidationFailed):
    def __init__(self, problems: list[str]) -> None:
        super().__init__({"yaml_text": " ".join(problems)})
        self.problems = problems


# --- Parsing -----------------------------------------------------------------------------------


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
        fields.fail("id", _("use the Vertex model id, such as gemini-2.5-flash."))
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
        status=fields.choice("status", ("available", "deprecated"), "available"),
        retirement_date=fields.day("retirement_date"),
        successor=fields.text("successor", required=False) or None,
        notes=fields.text("notes", required=False),
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
        "training_price_per_million_tokens",
        "currency",
        "price_checked_on",
        "price_url",
        "price_source",
        "status",
        "retirement_date",
        "successor",
        "notes",
    }
)


def _load_yaml(text: str) -> Any:
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


def parse_catalog(text: str, *, source: str = "override") -> Catalog:
    """Validate catalog YAML; raises ``CatalogError`` listing every problem found."""
    data = _load_yaml(text)
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
    for model in parsed:
        if model.successor and model.successor not in ids:
            problems.append(
                _("Model “%(id)s”: its successor “%(successor)s” is not in the list.")
                % {"id": model.id, "successor": model.successor}
            )
    default = str(data.get("default_model") or (ids[0] if ids else ""))
    if ids and default not in ids:
        problems.append(_("default_model “%(id)s” is not in the list.") % {"id": default})
    if problems:
        raise CatalogError(problems)
    return Catalog(tuple(parsed), default, source)


# --- The catalog in force ----------------------------------------------------------------------


@lru_cache
def shipped_text() -> str:
    return SHIPPED_PATH.read_text(encoding="utf-8")


@lru_cache
def shipped() -> Catalog:
    return parse_catalog(shipped_text(), source="shipped")


_lock = threading.Lock()
_cache: tuple[float, Catalog] | None = None


def invalidate_cache() -> None:
    global _cache
    with _lock:
        _cache = None


def _from_database(session: Session) -> Catalog:
    row = session.get(CatalogOverride, OVERRIDE_ID)
    if row is None:
        return shipped()
    try:
        return parse_catalog(row.yaml_text)
    except CatalogError:
        # A copy saved by an older release may no longer validate: fall back to the shipped
        # list (the admin page shows the saved copy's problems) instead of blocking launches.
        return shipped()


def current(session: Session | None = None) -> Catalog:
    """The catalog in force (the administrator's copy if any), cached for a few seconds."""
    global _cache
    with _lock:
        if _cache is not None and time.monotonic() - _cache[0] < CACHE_SECONDS:
            return _cache[1]
    if session is not None:
        catalog = _from_database(session)
    else:
        with new_session() as own:
            catalog = _from_database(own)
    with _lock:
        _cache = (time.monotonic(), catalog)
    return catalog


def override_text(session: Session) -> str | None:
    row = session.get(CatalogOverride, OVERRIDE_ID)
    return row.yaml_text if row else None


def save_override(session: Session, *, actor: User, text: str) -> Catalog:
    """Validate and store an administrator's catalog; it is in force within seconds."""
    catalog = parse_catalog(text)
    row = session.get(CatalogOverride, OVERRIDE_ID)
    if row is None:
        row = CatalogOverride(id=OVERRIDE_ID, yaml_text=text)
        session.add(row)
    row.yaml_text, row.updated_by_id, row.updated_at = text, actor.id, utcnow()
    audit.record(
        session,
        actor=actor,
        action="tuning_catalog.update",
        object_type="tuning_catalog",
        summary=", ".join(model.id for model in catalog.models),
    )
    invalidate_cache()
    return catalog


def reset_override(session: Session, *, actor: User) -> None:
    row = session.get(CatalogOverride, OVERRIDE_ID)
    if row is not None:
        session.delete(row)
        audit.record(
            session, actor=actor, action="tuning_catalog.reset", object_type="tuning_catalog"
        )
    invalidate_cache()
