"""Every HTML page of the app renders as a full page and as an HTMX fragment.

Walks the real application (pages added later are covered automatically): every GET route that
returns HTML and needs no path parameter other than a project is requested by an administrator,
plainly and as an HTMX navigation; each must answer 200 with the right shape and
``Vary: HX-Request``, in English and in Japanese.
"""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import create_user, project_with_roles
from tests.support import get_page, login
from tests.test_route_walk import PUBLIC_ROUTES, walk

# Pages that only exist in one state (first-run setup, the login form of a visitor).
NOT_FOR_A_LOGGED_IN_ADMIN = PUBLIC_ROUTES


def _pages(app: FastAPI) -> list[str]:
    paths = set()
    for route, method, rule in walk(app):
        if (
            method != "GET"
            or rule.kind.startswith("api")
            or route.name in NOT_FOR_A_LOGGED_IN_ADMIN
        ):
            continue
        params = set(re.findall(r"{(\w+)", route.path))
        if params <= {"project_id"}:
            paths.add(route.path)
    return sorted(paths)


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_every_page_renders_plain_and_as_a_fragment(
    web_app: FastAPI, client: TestClient, session: Session, htmx: bool, locale: str
) -> None:
    project, _users = project_with_roles(session)
    admin = create_user(session, is_admin=True, locale=locale)
    login(client, admin)
    client.cookies.set("lang", locale)
    pages = _pages(web_app)
    assert "/" in pages and "/projects/{project_id}" in pages
    for path in pages:
        url = path.replace("{project_id}", str(project.id))
        response = get_page(client, url, htmx)  # asserts the shape and Vary for 200 HTML
        assert response.status_code == 200, f"{url}: {response.status_code}"
        assert response.headers["content-type"].startswith("text/html"), url
        if not htmx:
            assert f'<html lang="{locale}"' in response.text, url
