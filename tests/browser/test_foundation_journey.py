"""The first minutes of a new team: setup → login → project → member → Japanese → logout."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from tests.browser.conftest import screenshot
from tests.factories import create_user

pytestmark = pytest.mark.browser


def test_setup_login_project_member_language_logout(
    page: Any, session: Session, database_url: str
) -> None:
    shot = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    page.goto("/")
    assert page.url.endswith("/setup")
    expect(page.locator("h1")).to_have_text("Welcome to TuneDesk")
    screenshot(page, f"foundation-{shot}-01-setup")

    # First-run setup creates the administrator and logs them in.
    page.get_by_label("Your name").fill("Aiko Tanaka")
    page.get_by_label("E-mail address").fill("aiko@example.com")
    page.get_by_label("Password", exact=True).fill("a long admin password")
    page.get_by_label("Password again").fill("a long admin password")
    page.get_by_role("button", name="Create administrator").click()
    expect(page.locator(".empty-state h2")).to_have_text("Start with a project")
    expect(page.locator(".toast")).to_contain_text("Welcome to TuneDesk")
    screenshot(page, f"foundation-{shot}-02-empty-dashboard")

    # Log out and in again through the login form.
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("h1")).to_have_text("Log in to TuneDesk")
    page.get_by_label("E-mail address").fill("aiko@example.com")
    page.get_by_label("Password").fill("a long admin password")
    screenshot(page, f"foundation-{shot}-03-login")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".empty-state")).to_be_visible()

    # Create a project from the empty state.
    page.get_by_role("button", name="Create your first project").click()
    page.get_by_label("Name").fill("Support replies")
    page.get_by_label("Description").fill("Answers to customer e-mails about orders.")
    screenshot(page, f"foundation-{shot}-04-new-project")
    page.get_by_role("button", name="Create project").click()
    expect(page.locator(".project-head h1")).to_have_text("Support replies")
    expect(page.locator("#next-steps li").first).to_contain_text("Invite your team")
    screenshot(page, f"foundation-{shot}-05-project")

    # Add a member with a role (the account exists already).
    create_user(session, name="Ken Sato", email="ken@example.com")
    page.locator("nav.tabs").get_by_role("link", name="Members").click()
    page.get_by_label("E-mail address").fill("ken@example.com")
    page.get_by_label("Role", exact=True).select_option("reviewer")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator(".toast").last).to_contain_text("Ken Sato joined the project as Reviewer")
    row = page.locator("#members tbody tr", has_text="Ken Sato")
    expect(row.locator("select")).to_have_value("reviewer")
    screenshot(page, f"foundation-{shot}-06-members")

    # Switch to Japanese: the page text changes and the choice sticks.
    page.get_by_role("button", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("nav.tabs")).to_contain_text("メンバー")
    expect(page.get_by_role("button", name="メンバーを追加")).to_be_visible()
    screenshot(page, f"foundation-{shot}-07-members-ja")
    page.goto("/")
    expect(page.locator("h1")).to_have_text("あなたのプロジェクト")
    screenshot(page, f"foundation-{shot}-08-home-ja")

    # Log out (in Japanese).
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="ログアウト").click()
    expect(page.locator("h1")).to_have_text("TuneDeskにログイン")
    screenshot(page, f"foundation-{shot}-09-logged-out-ja")
