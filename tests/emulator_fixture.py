"""The Vertex emulator on a free port, for any test folder.

Use it from a test package's ``conftest.py``::

    from tests.emulator_fixture import emulator, emulator_server  # noqa: F401

``emulator`` (per test) is an ``EmulatorServer`` with faults, counters and the request log
cleared; ``emulator.config()`` is a gateway ``ConnectionConfig`` pointing at it, and
``emulator.use(monkeypatch)`` makes it the connection in force for code that reads settings
(pages, services, tasks running in this process). The server runs in a background thread
(uvicorn) for the whole session; its state lives in a temporary folder.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from app.config import get_settings
from app.emulator.server import create_app
from app.genai import connection
from app.genai.client import forget_clients
from app.genai.config import ConnectionConfig, RetryPolicy, build_config
from tests.support import free_port

# Emulated seconds per real second in tests: a 40-step job ends in well under a second.
TEST_TIME_SCALE = 2000.0
# Tests do not wait a second between retries.
FAST_RETRY = RetryPolicy(
    attempts=4, initial_delay=0.05, max_delay=0.5, total_seconds=20, timeout=10
)


class EmulatorServer:
    def __init__(self, state_dir: Path | None, time_scale: float = TEST_TIME_SCALE) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(state_dir, time_scale=time_scale)
        self.default_time_scale = time_scale
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
            )
        )
        self._thread = threading.Thread(target=self._server.run, name="emulator", daemon=True)
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def start(self) -> EmulatorServer:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the emulator did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.http.close()
        self._server.should_exit = True
        self._thread.join(timeout=10)

    # --- control API --------------------------------------------------------------------------
    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.post(path, json=body or {})
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self._post("/_emulator/reset")
        self.settings(
            time_scale=self.default_time_scale,
            latency_ms=0,
            max_example_tokens=None,
            required_token=None,
        )

    def fault(self, route: str, **fault: Any) -> None:
        self._post("/_emulator/faults", {"route": route, **fault})

    def settings(self, **values: Any) -> dict[str, Any]:
        return dict(self._post("/_emulator/settings", values))

    def advance(self, seconds: float) -> None:
        self._post("/_emulator/clock", {"advance_seconds": seconds})

    def fail_job(self, job_id: str) -> None:
        self._post(f"/_emulator/jobs/{job_id}/fail")

    def counters(self) -> dict[str, int]:
        return dict(self.http.get("/_emulator/counters").json())

    def requests(self, route: str | None = None) -> list[dict[str, Any]]:
        params = {"route": route} if route else {}
        return list(self.http.get("/_emulator/requests", params=params).json())

    def state(self) -> dict[str, Any]:
        return dict(self.http.get("/_emulator/state").json())

    # --- pointing the gateway at it ------------------------------------------------------------
    def config(self, **overrides: Any) -> ConnectionConfig:
        """A gateway configuration for this emulator (fast retries unless ``retry`` is given)."""
        base = build_config(get_settings())
        config = dataclasses.replace(
            base,
            mode="emulator",
            vertex_base_url=self.url,
            storage_base_url=self.url,
            project="tunedesk-test",
            location="us-central1",
            bucket="tunedesk-test-bucket",
            access_token="test-token",
            retry=FAST_RETRY,
        )
        return dataclasses.replace(config, **overrides)

    def use(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Make this emulator the connection in force (environment + caches)."""
        for name, value in {
            "TUNEDESK_GEMINI_MODE": "emulator",
            "TUNEDESK_EMULATOR_HOST": "127.0.0.1",
            "TUNEDESK_EMULATOR_PORT": str(self.port),
            "TUNEDESK_VERTEX_BASE_URL": "",
            "TUNEDESK_STORAGE_BASE_URL": "",
        }.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        connection.invalidate_cache()
        forget_clients()
        monkeypatch.setattr(connection, "CACHE_SECONDS", 0.0)


@pytest.fixture(scope="session")
def emulator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    server = EmulatorServer(tmp_path_factory.mktemp("emulator")).start()
    yield server
    server.stop()


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> Iterator[EmulatorServer]:
    emulator_server.reset()
    yield emulator_server
    emulator_server.reset()
    get_settings.cache_clear()
    connection.invalidate_cache()
    forget_clients()
