"""Every route of the app declares who may use it, and the declaration holds.

The walk enumerates the real application (routes added later are covered automatically): each
route except the public ones answers a redirect to the login page (pages) or 401 (API) without a
session, 403 to a user whose project role lacks the route's permission, and every unsafe request
without the CSRF token is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.dependencies import api_user, current_user, require_admin
from app.projects.dependencies import ProjectPermission
from app.projects.permissions import ROLE_PERMISSIONS, Permission, Role
from tests.factories import create_user, project_with_roles
from tests.support import anonymous_csrf, login

# Reachable without an account: getting in, choosing a language, health checks, API docs.
PUBLIC_ROUTES = {
    "auth:setup",
    "auth:setup_submit",
    "auth:login",
    "auth:login_submit",
    "auth:logout",
    "auth:language",
    "healthz",
    "readyz",
    "openapi",
    "swagger_ui_html",
    "swagger_ui_redirect",
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Rule:
    kind: str  # "admin" | "user" | "project" | "api" | "api_project"
    permission: Permission | None = None


def _app_routes(app: FastAPI) -> Iterator[APIRoute]:
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI ≥ 0.160 nests included routers
    except ImportError:
        routes = list(app.routes)
    else:
        routes = [context.original_route for context in iter_route_contexts(app.routes)]
    for route in routes:
        if isinstance(route, APIRoute):
            yield route


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def rule_of(route: APIRoute) -> Rule | None:
    calls = list(_calls(route.dependant))
    for call in calls:
        if isinstance(call, ProjectPermission):
            return Rule("api_project" if call.api else "project", call.permission)
    if require_admin in calls:
        return Rule("admin")
    if api_user in calls:
        return Rule("api")
    if current_user in calls:
        return Rule("user")
    return None


def _url(route: APIRoute, project_id: int) -> str:
    # Unknown objects get an id that does not exist: access is decided before any lookup.
    def fill(match: re.Match[str]) -> str:
        return str(project_id) if match.group(1) == "project_id" else "999999"

    return re.sub(r"{(\w+)(?::\w+)?}", fill, route.path)


def walk(app: FastAPI) -> list[tuple[APIRoute, str, Rule]]:
    result = []
    for route in _app_routes(app):
        if route.name in PUBLIC_ROUTES:
            continue
        rule = rule_of(route)
        assert rule is not None, f"{route.path} ({route.name}) declares no access rule"
        for method in sorted(route.methods - {"HEAD"}):
            result.append((route, method, rule))
    return result


def test_walk_finds_the_whole_app(web_app: FastAPI) -> None:
    names = {route.name for route, _method, _rule in walk(web_app)}
    assert {"home", "projects:detail", "projects:member_add", "admin:users", "api:me"} <= names


def test_without_a_session_every_route_sends_to_login(
    web_app: FastAPI, client: TestClient, session: Session
) -> None:
    create_user(session, is_admin=True)  # past first-run setup: the login page is the target
    token = anonymous_csrf(client)
    for route, method, rule in walk(web_app):
        url = _url(route, project_id=1)
        headers = {"X-CSRF-Token": token} if method in UNSAFE else {}
        response = client.request(method, url, headers=headers)
        where = f"{method} {route.path}"
        if rule.kind.startswith("api"):
            assert response.status_code == 401, where
            assert response.json()["error"]["code"] == "http_401", where
        else:
            assert response.status_code == 303, where
            assert response.headers["location"].startswith("/login"), where


def test_roles_without_the_permission_are_refused(
    web_app: FastAPI, client: TestClient, session: Session
) -> None:
    project, by_role = project_with_roles(session)
    outsider = create_user(session)
    plain_user = create_user(session)
    checked = 0
    for route, method, rule in walk(web_app):
        url = _url(route, project.id)
        where = f"{method} {route.path}"
        refused_users = []
        if rule.kind == "admin":
            refused_users = [plain_user]
        elif rule.kind in ("project", "api_project"):
            assert rule.permission is not None
            refused_users = [outsider] + [
                by_role[role] for role in Role if rule.permission not in ROLE_PERMISSIONS[role]
            ]
        for user in refused_users:
            client.cookies.clear()
            client.headers.pop("Authorization", None)
            if rule.kind == "api_project":
                client.headers["Authorization"] = f"Bearer {_token_for(session, user)}"
            else:
                login(client, user)
            response = client.request(method, url)
            assert response.status_code == 403, f"{where} as {user.name}: {response.status_code}"
            checked += 1
    assert checked > 10


def _token_for(session: Session, user: object) -> str:
    from app.auth.service import create_api_token

    _token, plain = create_api_token(session, user=user, name="walk")  # type: ignore[arg-type]
    session.commit()
    return plain


def test_unsafe_requests_without_csrf_token_are_refused(
    web_app: FastAPI, client: TestClient, session: Session
) -> None:
    project, _by_role = project_with_roles(session)
    admin = create_user(session, is_admin=True)
    login(client, admin)
    del client.headers["X-CSRF-Token"]
    unsafe = [
        (r, m) for r, m, rule in walk(web_app) if m in UNSAFE and not rule.kind.startswith("api")
    ]
    assert unsafe, "expected forms to check"
    for route, method in unsafe:
        response = client.request(method, _url(route, project.id), data={"csrf_token": "forged"})
        assert response.status_code == 403, f"{method} {route.path}"
        assert "expired or came from another site" in response.text


@pytest.mark.parametrize("path", ["/login", "/setup"])
def test_public_forms_also_need_the_csrf_token(client: TestClient, path: str) -> None:
    response = client.post(path, data={"email": "a@example.com", "password": "x"})
    assert response.status_code == 403
