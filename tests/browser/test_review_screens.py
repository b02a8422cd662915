"""The review screens a team meets less often, in a real browser: a conflicting answer blocking
approval (and resolving it), and a version whose splits overlap (accepted explicitly).
Screenshots: screenshots/review-*-conflict*.png, review-*-leakage*.png."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from app.datasets.models import Example, ExampleStatus
from tests.browser.conftest import screenshot
from tests.browser.test_review_journey import _language, _log_in, build_version_in_background
from tests.review.factories import approved_set, pending, team

pytestmark = pytest.mark.browser


def test_conflict_and_leakage_screens(page: Any, session: Session, database_url: str) -> None:
    shot = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    t = team(session)
    kept = pending(
        session,
        t,
        question="海外発送はしていますか？",
        answer="いいえ、国内のみです。",
        status=ExampleStatus.APPROVED,
    )
    new = pending(
        session,
        t,
        question="海外発送はしていますか？",
        answer="はい、アジアの10か国に発送しています。",
        tag="shipping",
    )
    approved_set(session, t, 12)
    for split in ("train", "test"):
        pending(
            session,
            t,
            question="Do you offer gift wrapping?",
            answer="Yes, for 200 yen.",
            split=split,
            status=ExampleStatus.APPROVED,
        )

    _log_in(page, t.reviewer)
    page.goto(f"/projects/{t.project.id}/review/examples/{new.id}")
    expect(page.locator("#conflict")).to_contain_text(f"Approved example #{kept.id}")
    expect(page.locator("#approve")).to_be_disabled()
    page.keyboard.press("a")  # the shortcut respects the blocked button
    expect(page.locator("#card-title")).to_have_text(f"Example #{new.id}")
    screenshot_name = f"review-{shot}-conflict"
    screenshot(page, screenshot_name)
    _language(page, "日本語")
    expect(page.locator("#conflict")).to_contain_text(f"承認済みの例 #{kept.id}")
    screenshot(page, f"{screenshot_name}-ja")
    page.locator("#conflict button").click()
    expect(page.locator(".toast", has_text="矛盾を解消しました")).to_be_visible()
    session.expire_all()
    assert session.get(Example, new.id).status == ExampleStatus.APPROVED  # type: ignore[union-attr]
    assert session.get(Example, kept.id).status == ExampleStatus.REJECTED  # type: ignore[union-attr]

    _log_in(page, t.manager)
    page.goto(f"/projects/{t.project.id}/versions/new")
    page.get_by_role("button", name="Check for overlaps and continue").click()
    expect(page.locator("#leak-pairs tbody tr")).to_have_count(1)
    screenshot(page, f"review-{shot}-leakage")
    page.get_by_role("button", name="Create version").click()
    expect(page.locator(".toast", has_text="accept the overlaps explicitly")).to_be_visible()
    page.get_by_label("I reviewed this overlap and accept it in this version.").check()
    page.get_by_role("button", name="Create version").click()
    build_version_in_background(page)
    expect(page.locator("#leakage-record")).to_contain_text("1 overlap between training")
    _language(page, "日本語")
    screenshot(page, f"review-{shot}-leakage-accepted-ja")
