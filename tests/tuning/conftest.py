"""Tuning tests run the gateway against the emulator and start from a clean model catalog."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.tuning import catalog
from tests.emulator_fixture import EmulatorServer, emulator, emulator_server  # noqa: F401


@pytest.fixture(autouse=True)
def fresh_catalog() -> Iterator[None]:
    catalog.invalidate_cache()
    yield
    catalog.invalidate_cache()


@pytest.fixture
def tuning_env(
    process_env: dict[str, str],
    emulator: EmulatorServer,  # noqa: F811  (the fixture imported above)
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """Worker/beat environment pointing at the test emulator (and this process, too)."""
    emulator.use(monkeypatch)
    process_env.update(emulator_env(emulator))
    return process_env


def emulator_env(server: EmulatorServer) -> dict[str, str]:
    return {
        "TUNEDESK_GEMINI_MODE": "emulator",
        "TUNEDESK_EMULATOR_HOST": "127.0.0.1",
        "TUNEDESK_EMULATOR_PORT": str(server.port),
        "TUNEDESK_VERTEX_BASE_URL": "",
        "TUNEDESK_STORAGE_BASE_URL": "",
    }
