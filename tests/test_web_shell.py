"""The shell: error pages in the reader's language, health checks, security headers, assets."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import create_user
from tests.support import login, soup, text_of


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready"
    assert ready["checks"]["database"]["ok"] and ready["checks"]["broker"]["ok"]


def test_not_found_page_speaks_the_browser_language(client: TestClient, session: Session) -> None:
    create_user(session)
    response = client.get("/no/such/page", headers={"Accept-Language": "ja-JP,ja;q=0.9"})
    assert response.status_code == 404
    assert soup(response).html["lang"] == "ja"
    assert "ページが見つかりません" in text_of(response)


def test_missing_object_is_a_404_with_a_way_back(client: TestClient, session: Session) -> None:
    login(client, create_user(session, is_admin=True))
    response = client.get("/projects/424242")
    assert response.status_code == 404
    assert "This project does not exist" in text_of(response)
    assert soup(response).select_one('.error-page a[href="/"]') is not None


def test_invalid_path_parameter_is_explained(client: TestClient, session: Session) -> None:
    login(client, create_user(session, is_admin=True))
    response = client.get("/projects/not-a-number")
    assert response.status_code == 400
    assert "not valid" in text_of(response)


def test_security_headers_and_request_id(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert response.headers["x-request-id"] == "abc123"
    assert response.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_vendored_assets_are_served_locally(client: TestClient) -> None:
    for path in (
        "/static/vendor/htmx/htmx.min.js",
        "/static/vendor/pico/pico.min.css",
        "/static/app.css",
        "/static/app.js",
    ):
        assert client.get(path).status_code == 200, path


def test_pages_reference_no_external_assets(client: TestClient, session: Session) -> None:
    login(client, create_user(session, is_admin=True))
    page = soup(client.get("/"))
    for tag in page.select("script[src], link[href]"):
        assert (tag.get("src") or tag.get("href")).startswith("/static/")


def test_emulator_banner_is_shown(client: TestClient, session: Session) -> None:
    login(client, create_user(session))
    banner = soup(client.get("/")).select_one(".banner-emulator")
    assert banner is not None and "Offline simulation" in banner.get_text()
