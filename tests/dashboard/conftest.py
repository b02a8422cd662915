"""Tuning tests run the gateway against the emulator and start from a clean model catalog."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.tuning import catalog
from tests.emulator_fixture import emulator, emulator_server  # noqa: F401


@pytest.fixture(autouse=True)
def fresh_catalog() -> Iterator[None]:
    catalog.invalidate_cache()
    yield
    catalog.invalidate_cache()
