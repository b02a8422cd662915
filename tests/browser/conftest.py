"""Browser tests: the real web server in a subprocess, driven by Chromium through Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine

from app.config import PROJECT_ROOT
from tests.processes import ManagedProcess
from tests.support import CHROMIUM, CHROMIUM_ARGS, free_port, require, wait_for

SCREENSHOTS = Path(os.environ.get("TUNEDESK_SCREENSHOTS", PROJECT_ROOT / "screenshots"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require(CHROMIUM is not None, "browser tests need Chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "browser tests need the playwright Python package")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def live_server(db: Engine, embedded_process_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """The web server as `make run` starts it, on a free port, sharing the test database."""
    port = free_port()
    server = ManagedProcess(
        "web", ["run-web", "--port", str(port)], embedded_process_env, tmp_path / "web.log"
    ).start()
    base_url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(healthy, timeout=30, message="the web server to answer")
        yield base_url
    finally:
        server.stop()


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server, viewport={"width": 1280, "height": 860}, locale="en-US"
    )
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    # Assertions wait as long as actions: under a parallel test run a page can take seconds.
    expect.set_options(timeout=15_000)
    yield tab
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under ./screenshots (look at them: broken-looking is broken)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
