"""The region check of the Connection page's *Test connection*: does the configured region tune
the catalog's default model, and where will its tuned models answer? (The same words as the
pre-flight's "Region" line, ``preflight.region_check``.)"""

from __future__ import annotations

from app.genai.config import ConnectionConfig
from app.genai.types import CheckStep
from app.tuning import catalog
from app.tuning.preflight import FAIL, region_check


def connection_step(config: ConnectionConfig) -> CheckStep:
    current = catalog.current()
    model = current.get(current.default_model)
    if model is None:  # pragma: no cover - parse_catalog guarantees the default is listed
        return CheckStep("region", None, "")
    item = region_check(model, config.location)
    # A region Google does not document for the model is a warning in pre-flight, not a failure.
    return CheckStep("region", item.status != FAIL, item.message)


def check_model() -> str:
    """The model Test connection asks Vertex about: the default one people will tune."""
    return catalog.current().default_model
