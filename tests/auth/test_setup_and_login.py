"""First-run setup, login/logout, throttling and session invalidation."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import AuditEvent, User
from app.auth.sessions import COOKIE_NAME
from tests.factories import PASSWORD, create_user
from tests.support import anonymous_csrf, get_page, login, soup, text_of


class TestSetup:
    def test_without_users_every_page_leads_to_setup(self, client: TestClient) -> None:
        response = client.get("/")
        assert response.status_code == 303
        assert response.headers["location"] == "/setup"
        assert client.get("/login").headers["location"] == "/setup"

    def test_setup_page_renders_with_and_without_htmx(self, client: TestClient, htmx: bool) -> None:
        response = get_page(client, "/setup", htmx)
        assert response.status_code == 200
        page = soup(response)
        assert page.select_one("h1").get_text() == "Welcome to TuneDesk"
        for field in ("name", "email", "password", "password_confirm"):
            control = page.select_one(f"#f-{field}")
            assert control is not None and page.select_one(f'label[for="f-{field}"]') is not None

    def test_setup_creates_admin_and_logs_in(self, client: TestClient, session: Session) -> None:
        token = anonymous_csrf(client)
        response = client.post(
            "/setup",
            data={
                "csrf_token": token,
                "name": "Aiko Tanaka",
                "email": "Aiko@Example.com",
                "password": "long enough password",
                "password_confirm": "long enough password",
                "locale": "ja",
            },
        )
        assert response.status_code == 303 and response.headers["location"] == "/"
        admin = session.scalar(select(User))
        assert admin is not None and admin.is_admin and admin.email == "aiko@example.com"
        assert admin.locale == "ja"
        home = client.get("/")
        assert home.status_code == 200
        assert "最初のプロジェクトを作成" in home.text  # the empty state, in Japanese
        actions = set(session.scalars(select(AuditEvent.action)))
        assert {"user.create", "setup.complete"} <= actions

    def test_setup_rejects_bad_input_with_messages(
        self, client: TestClient, session: Session
    ) -> None:
        token = anonymous_csrf(client)
        response = client.post(
            "/setup",
            data={
                "csrf_token": token,
                "name": "",
                "email": "not-an-address",
                "password": "short",
                "password_confirm": "short",
            },
        )
        assert response.status_code == 422
        page = soup(response)
        errors = {e["id"]: e.get_text() for e in page.select(".field-error")}
        assert "Enter the person's name." in errors["f-name-error"]
        assert "name@example.com" in errors["f-email-error"]
        assert "at least 10 characters" in errors["f-password-error"]
        assert page.select_one("#f-email")["aria-invalid"] == "true"
        assert session.scalar(select(User)) is None

    def test_setup_is_closed_once_a_user_exists(self, client: TestClient, session: Session) -> None:
        create_user(session, is_admin=True)
        assert client.get("/setup").headers["location"] == "/login"
        token = anonymous_csrf(client)
        response = client.post(
            "/setup",
            data={
                "csrf_token": token,
                "name": "Mallory",
                "email": "m@example.com",
                "password": "long enough password",
                "password_confirm": "long enough password",
            },
        )
        assert response.headers["location"] == "/login"
        assert session.scalar(select(User).where(User.email == "m@example.com")) is None


class TestLogin:
    def test_login_then_logout(self, client: TestClient, session: Session) -> None:
        user = create_user(session, email="ken@example.com", name="Ken")
        token = anonymous_csrf(client)
        response = client.post(
            "/login",
            data={
                "csrf_token": token,
                "email": "KEN@example.com",
                "password": PASSWORD,
                "next": "/notifications",
            },
        )
        assert response.status_code == 303 and response.headers["location"] == "/notifications"
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Ken" in text_of(client.get("/"))
        csrf = soup(client.get("/")).select_one('input[name="csrf_token"]')["value"]
        assert csrf != token  # rotated at login
        response = client.post("/logout", data={"csrf_token": csrf})
        assert response.headers["location"] == "/login"
        assert client.get("/").headers["location"].startswith("/login")
        session.refresh(user)
        assert user.last_login_at is not None

    def test_wrong_password_is_refused_with_a_message(
        self, client: TestClient, session: Session
    ) -> None:
        create_user(session, email="ken@example.com")
        token = anonymous_csrf(client)
        response = client.post(
            "/login", data={"csrf_token": token, "email": "ken@example.com", "password": "nope"}
        )
        assert response.status_code == 422
        assert "not correct" in soup(response).select_one("#login-error").get_text()

    def test_repeated_failures_lock_the_login(self, client: TestClient, session: Session) -> None:
        create_user(session, email="ken@example.com")
        token = anonymous_csrf(client)
        for _ in range(5):
            client.post(
                "/login",
                data={
                    "csrf_token": token,
                    "email": "ken@example.com",
                    "password": "wrong password",
                },
            )
        response = client.post(
            "/login", data={"csrf_token": token, "email": "ken@example.com", "password": PASSWORD}
        )
        assert response.status_code == 422
        assert "Too many failed attempts" in text_of(response)

    def test_open_redirects_are_ignored(self, client: TestClient, session: Session) -> None:
        create_user(session, email="ken@example.com")
        token = anonymous_csrf(client)
        response = client.post(
            "/login",
            data={
                "csrf_token": token,
                "email": "ken@example.com",
                "password": PASSWORD,
                "next": "//evil.example",
            },
        )
        assert response.headers["location"] == "/"

    def test_deactivated_user_is_logged_out(self, client: TestClient, session: Session) -> None:
        user = create_user(session)
        login(client, user)
        assert client.get("/").status_code == 200
        user.is_active = False
        user.session_epoch += 1
        session.commit()
        assert client.get("/").status_code == 303

    def test_tampered_cookie_is_ignored(self, client: TestClient, session: Session) -> None:
        user = create_user(session)
        login(client, user)
        client.cookies.set(COOKIE_NAME, client.cookies[COOKIE_NAME][:-3] + "abc")
        assert client.get("/").status_code == 303
