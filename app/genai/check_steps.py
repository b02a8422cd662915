"""What a higher domain adds to *Test connection*, registered at start-up (no SDK import, so
registering costs nothing): the model to count tokens on and steps that judge the configuration
against the model catalog (tuning registers "region")."""

from __future__ import annotations

from collections.abc import Callable

from app.genai.config import ConnectionConfig
from app.genai.types import CheckStep

check_model: list[Callable[[], str]] = []
extra_steps: list[Callable[[ConnectionConfig], CheckStep]] = []


def set_check_model(source: Callable[[], str]) -> None:
    check_model[:] = [source]


def add_step(step: Callable[[ConnectionConfig], CheckStep]) -> None:
    if step not in extra_steps:
        extra_steps.append(step)
