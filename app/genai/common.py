"""Helpers every gateway module shares: the configuration in force, the shared clients, the
context that error messages name, per-attempt HTTP options and label checks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from google.genai import types as genai_types

from app.genai.classify import classify
from app.genai.client import Clients, clients_for
from app.genai.config import ConnectionConfig, missing_settings
from app.genai.connection import current_config
from app.genai.errors import ConfigurationGeminiError
from app.i18n import N_, gettext

_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_SETTING_NAMES = {"project": N_("project"), "location": N_("region"), "bucket": N_("bucket")}


def resolve(config: ConnectionConfig | None) -> ConnectionConfig:
    return config or current_config()


def require_settings(config: ConnectionConfig) -> None:
    missing = missing_settings(config)
    if missing:
        raise ConfigurationGeminiError(
            "not_configured",
            {"missing": [gettext(_SETTING_NAMES[name]) for name in missing]},
            raw=f"missing settings: {', '.join(missing)}",
        )


def clients(config: ConnectionConfig, context: Mapping[str, Any]) -> Clients:
    """The shared clients; credential problems become gateway errors."""
    require_settings(config)
    try:
        return clients_for(config)
    except Exception as error:
        raise classify(error, context) from error


def context_for(config: ConnectionConfig, **values: Any) -> dict[str, Any]:
    return {
        "project": config.project,
        "location": config.location,
        "bucket": config.bucket,
        **values,
    }


def http_options(timeout: float) -> genai_types.HttpOptions:
    return genai_types.HttpOptions(timeout=max(1, int(timeout * 1000)))


def check_labels(labels: Mapping[str, str]) -> dict[str, str]:
    for key, value in labels.items():
        if not _LABEL_KEY.match(key) or not _LABEL_VALUE.match(value):
            raise ValueError(
                f"label {key}={value!r}: Vertex labels use lowercase letters, digits, "
                "'_' and '-' (keys start with a letter), at most 63 characters"
            )
    return dict(labels)
