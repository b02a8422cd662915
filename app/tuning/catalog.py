"""The model catalog: which Gemini base models tune, with their limits, regions and training
price, and which ones Google retired (kept, so old jobs keep their names and successors).

The shipped list is ``catalog.yaml`` beside this module; an administrator's edited copy
(``CatalogOverride``) wins over it. Both go through ``parse_catalog``, which refuses anything a
launch could trip over (unknown adapter sizes, a default size the model does not allow, a
successor that is not listed…) with one message per problem saying where and how to fix it.
"""

from __future__ import annotations

import threading
import time
from functools import lru_cache
from pathlib import Path

from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import User
from app.db import new_session, utcnow
from app.i18n import N_
from app.tuning.catalog_parse import CatalogError, parse_catalog
from app.tuning.catalog_types import Catalog, ModelSpec
from app.tuning.models import CatalogOverride

__all__ = ["Catalog", "CatalogError", "ModelSpec", "current", "parse_catalog", "shipped"]

AUDIT_ACTIONS = {
    "tuning_catalog.update": N_("Edited the tuning model catalog"),
    "tuning_catalog.reset": N_("Restored the shipped tuning model catalog"),
}

SHIPPED_PATH = Path(__file__).with_name("catalog.yaml")
OVERRIDE_ID = 1
CACHE_SECONDS = 5.0


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
