"""Own account, API tokens (shown once, stored hashed, revocable) and the JSON API."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import ApiToken
from app.projects.permissions import Role
from tests.factories import PASSWORD, create_project, create_user
from tests.support import get_page, login, soup, text_of


def _create_token(client: TestClient, name: str = "nightly export") -> str:
    page = soup(client.post("/account/tokens", data={"name": name}))
    return str(page.select_one("#new-token")["value"])


class TestApiTokens:
    def test_token_is_shown_once_and_stored_hashed(
        self, client: TestClient, session: Session
    ) -> None:
        login(client, create_user(session))
        plain = _create_token(client)
        assert plain.startswith("td_") and len(plain) > 40
        stored = session.scalar(select(ApiToken))
        assert stored is not None
        assert stored.token_hash == hashlib.sha256(plain.encode()).hexdigest()
        assert plain not in client.get("/account").text

    def test_token_works_for_the_api_and_a_revoked_one_does_not(
        self, client: TestClient, session: Session
    ) -> None:
        user = create_user(session, name="Yuki")
        project = create_project(session, name="Support replies", members={user: Role.EXPERT})
        login(client, user)
        plain = _create_token(client)
        api = {"Authorization": f"Bearer {plain}"}
        client.cookies.clear()
        me = client.get("/api/v1/me", headers=api)
        assert me.status_code == 200 and me.json()["name"] == "Yuki"
        projects = client.get("/api/v1/projects", headers=api).json()
        assert [(p["name"], p["role"]) for p in projects] == [("Support replies", "expert")]
        assert client.get(f"/api/v1/projects/{project.id}", headers=api).json()["id"] == project.id

        login(client, user)
        token = session.scalar(select(ApiToken))
        assert token is not None
        client.post(f"/account/tokens/{token.id}/revoke")
        client.cookies.clear()
        response = client.get("/api/v1/me", headers=api)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"

    def test_api_ignores_session_cookies(self, client: TestClient, session: Session) -> None:
        login(client, create_user(session))
        assert client.get("/api/v1/me").status_code == 401

    def test_tokens_of_deactivated_users_stop_working(
        self, client: TestClient, session: Session
    ) -> None:
        user = create_user(session)
        login(client, user)
        plain = _create_token(client)
        user.is_active = False
        session.commit()
        assert (
            client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code
            == 401
        )

    def test_nameless_token_is_refused(self, client: TestClient, session: Session) -> None:
        login(client, create_user(session))
        response = client.post("/account/tokens", data={"name": " "})
        assert response.status_code == 422
        assert "Give the token a name" in text_of(response)


class TestAccount:
    def test_page_renders(self, client: TestClient, session: Session, htmx: bool) -> None:
        login(client, create_user(session, name="Ken"))
        page = soup(get_page(client, "/account", htmx))
        assert page.select_one("#f-name")["value"] == "Ken"

    def test_change_password_needs_the_current_one(
        self, client: TestClient, session: Session
    ) -> None:
        user = create_user(session)
        login(client, user)
        response = client.post(
            "/account/password",
            data={"current_password": "wrong", "new_password": "a new long password"},
        )
        assert response.status_code == 422
        assert "current password is not correct" in text_of(response)
        response = client.post(
            "/account/password",
            data={"current_password": PASSWORD, "new_password": "a new long password"},
        )
        assert response.status_code == 303
        assert client.get("/account").status_code == 200  # this browser stays logged in

    def test_language_preference_is_saved(self, client: TestClient, session: Session) -> None:
        user = create_user(session)
        login(client, user)
        client.post("/language", data={"locale": "ja", "next": "/account"})
        session.refresh(user)
        assert user.locale == "ja"
        assert soup(client.get("/account")).html["lang"] == "ja"


class TestAdminUsers:
    def test_admin_creates_deactivates_and_resets(
        self, client: TestClient, session: Session, htmx: bool
    ) -> None:
        admin = create_user(session, is_admin=True)
        login(client, admin)
        assert get_page(client, "/admin/users", htmx).status_code == 200
        response = client.post(
            "/admin/users",
            data={"name": "Sora", "email": "sora@example.com", "password": "first password!"},
        )
        assert response.status_code == 303
        sora = session.scalar(select(ApiToken.__table__.c.id).limit(0))  # no tokens yet
        assert sora is None
        page = soup(client.get("/admin/users"))
        row = next(tr for tr in page.select("#users tbody tr") if "Sora" in tr.get_text())
        user_id = int(row["id"].removeprefix("user-"))
        client.post(f"/admin/users/{user_id}/active", data={"active": "false"})
        page = soup(client.get("/admin/users"))
        assert "Deactivated" in page.select_one(f"#user-{user_id}").get_text()
        client.post(f"/admin/users/{user_id}/password", data={"password": "another password"})
        assert "was reset" in text_of(client.get("/admin/users"))

    def test_admin_cannot_deactivate_self(self, client: TestClient, session: Session) -> None:
        admin = create_user(session, is_admin=True)
        login(client, admin)
        response = client.post(f"/admin/users/{admin.id}/active", data={"active": "false"})
        assert response.status_code == 409
        assert "cannot deactivate your own account" in text_of(response)

    def test_duplicate_email_is_refused(self, client: TestClient, session: Session) -> None:
        login(client, create_user(session, is_admin=True))
        create_user(session, email="taken@example.com")
        response = client.post(
            "/admin/users",
            data={"name": "X", "email": "Taken@example.com", "password": "long enough pw"},
        )
        assert response.status_code == 422
        assert "already exists" in text_of(response)

    def test_audit_log_lists_and_filters(
        self, client: TestClient, session: Session, htmx: bool
    ) -> None:
        admin = create_user(session, is_admin=True, name="Admin")
        login(client, admin)
        client.post("/projects", data={"name": "Audited"})
        page = soup(get_page(client, "/admin/audit", htmx))
        actions = [code.get_text() for code in page.select("#audit-results code")]
        assert "project.create" in actions
        fragment = client.get(
            "/admin/audit?action=project.",
            headers={"HX-Request": "true", "HX-Target": "audit-results"},
        )
        assert "<html" not in fragment.text and fragment.text.lstrip().startswith(
            '<section id="audit-results">'
        )
        assert [c.get_text() for c in soup(fragment).select("code")] == ["project.create"]

    def test_system_page_reports_database_and_broker(
        self, client: TestClient, session: Session, htmx: bool
    ) -> None:
        login(client, create_user(session, is_admin=True))
        text = text_of(get_page(client, "/admin/system", htmx))
        assert "Database Reachable" in text and "Task queue (broker) Reachable" in text
        assert "No recent heartbeat" in text
