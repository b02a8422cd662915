"""The review journey in a real browser, with a real Celery worker importing the file: an expert
uploads examples, a reviewer approves with the keyboard and returns one with a reason, the expert
fixes and resubmits it, the reviewer approves it, and a manager freezes a version and downloads
its training file. Screenshots in English and Japanese (screenshots/review-*.png)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.models import Example
from app.datasets.versions import builds
from app.projects.permissions import Role
from tests.browser.conftest import screenshot
from tests.datasets.factories import csv_bytes
from tests.factories import PASSWORD, create_project, create_user
from tests.processes import worker

pytestmark = [pytest.mark.browser, pytest.mark.worker]

EXAMPLES = [
    ("How long does delivery to Osaka take?", "Orders to Osaka arrive within two business days."),
    ("送料はいくらですか？", "5,000円以上のご注文は送料無料です。それ未満は全国一律500円です。"),
    ("Can I return a gift?", "Yes, returns cost 100 yen."),  # the one the reviewer returns
    ("ポイントの有効期限はありますか？", "最後のご購入から1年間有効です。"),
]
GOLDEN = ("Do you deliver on Sundays?", "Yes, Sunday delivery is available in most areas.")


def _log_in(page: Any, user: User) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".user-menu summary")).to_have_text(user.name)


def _language(page: Any, label: str) -> None:
    page.get_by_role("button", name=label).click()
    expect(page.locator("html")).to_have_attribute("lang", "ja" if label == "日本語" else "en")


@pytest.fixture
def running_worker(embedded_process_env: dict[str, str], tmp_path: Path) -> Iterator[None]:
    process = worker(embedded_process_env, tmp_path).start(ready_text="ready.")
    yield
    process.stop()


def _upload_examples(page: Any, project_id: int, shot: str, tmp: Path) -> None:
    """The expert's spreadsheet: training rows leave the split empty (decided when versioning);
    the golden question is marked as test."""
    rows = [["question", "answer", "split"]]
    rows += [[question, answer, ""] for question, answer in EXAMPLES]
    rows.append([*GOLDEN, "test"])
    data = tmp / "support answers.csv"
    data.write_bytes(csv_bytes(rows))
    page.goto(f"/projects/{project_id}")
    page.locator("nav.tabs").get_by_role("link", name="Datasets").click()
    page.locator("#new-file").set_input_files(str(data))
    page.locator("#new-dataset button[type=submit]").click()
    expect(page.locator("#f-input-column")).to_have_value("question")
    expect(page.locator("#f-output-column")).to_have_value("answer")
    expect(page.locator("#f-split-column")).to_have_value("split")
    screenshot(page, f"review-{shot}-01-upload-mapping")
    page.get_by_role("button", name="Import this file").click()
    expect(page.locator("#summary [data-stat=rows]")).to_have_text(str(len(EXAMPLES) + 1))
    expect(page.locator("#summary [data-stat=errors]")).to_have_text("0")
    page.goto(f"/projects/{project_id}")
    page.locator("nav.tabs").get_by_role("link", name="My examples").click()
    expect(page.locator("#my-examples tbody tr")).to_have_count(len(EXAMPLES) + 1)
    screenshot(page, f"review-{shot}-02-my-examples")


def _review_with_keyboard(page: Any, project_id: int, ids: list[int], shot: str) -> None:
    page.goto(f"/projects/{project_id}")
    page.locator("nav.tabs").get_by_role("link", name="Review").click()
    expect(page.locator("#waiting-for-me")).to_have_text(str(len(ids)))
    screenshot(page, f"review-{shot}-03-queue")
    page.get_by_role("button", name="Start reviewing →").click()
    expect(page.locator("#card-title")).to_have_text(f"Example #{ids[0]}")
    screenshot(page, f"review-{shot}-04-card")
    page.keyboard.press("a")
    expect(page.locator("#card-title")).to_have_text(f"Example #{ids[1]}")
    expect(page.locator(".toast", has_text=f"Example #{ids[0]} approved.")).to_be_visible()
    page.keyboard.press("ArrowRight")  # → next without deciding, then back with k
    expect(page.locator("#card-title")).to_have_text(f"Example #{ids[2]}")
    page.keyboard.press("k")
    expect(page.locator("#card-title")).to_have_text(f"Example #{ids[1]}")
    page.keyboard.press("a")
    expect(page.locator("#card-title")).to_have_text(f"Example #{ids[2]}")
    page.keyboard.press("r")
    expect(page.locator("#f-reason")).to_be_focused()
    page.keyboard.type("Returns of gifts are free; please correct the fee.")
    screenshot(page, f"review-{shot}-05-reject-reason")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#card-title")).to_have_text(f"Example #{ids[3]}")
    expect(page.locator(".toast", has_text=f"#{ids[2]} was returned to its author")).to_be_visible()
    page.keyboard.press("a")
    expect(page.locator("#card-title")).to_have_text(f"Example #{ids[4]}")
    page.keyboard.press("a")
    expect(page.locator(".empty-state h2")).to_have_text("All caught up")
    expect(page.locator(".toast", has_text="Nothing else is waiting for you")).to_be_visible()


def _fix_and_resubmit(page: Any, project_id: int, returned_id: int, shot: str) -> None:
    page.goto(f"/projects/{project_id}/my-examples")
    item = page.locator(f"#returned-{returned_id}")
    expect(item).to_contain_text("Returns of gifts are free; please correct the fee.")
    screenshot(page, f"review-{shot}-06-returned-to-expert")
    item.get_by_role("button", name="Fix and resubmit").click()
    expect(page.locator("#return-reason")).to_contain_text("please correct the fee")
    page.get_by_label("Ideal answer").fill("Yes, gifts can be returned free of charge.")
    page.get_by_label("What did you change? (optional)").fill("Corrected the return fee.")
    page.get_by_role("button", name="Resubmit for review").click()
    expect(page.locator(".toast", has_text=f"#{returned_id} was resubmitted")).to_be_visible()


def _approve_fixed(page: Any, project_id: int, returned_id: int, shot: str) -> None:
    page.goto(f"/projects/{project_id}/review")
    page.get_by_role("button", name="Start reviewing →").click()
    expect(page.locator("#card-title")).to_have_text(f"Example #{returned_id}")
    expect(page.locator(".returned-before")).to_contain_text("please correct the fee")
    screenshot(page, f"review-{shot}-07-resubmitted-card")
    page.keyboard.press("h")
    expect(page.locator("#timeline")).to_contain_text("Corrected the return fee.")
    expect(page.locator("#timeline ins", has_text="free")).to_be_visible()
    screenshot(page, f"review-{shot}-08-history")
    page.goto(f"/projects/{project_id}/review/examples/{returned_id}")
    expect(page.locator("#card-title")).to_have_text(f"Example #{returned_id}")
    page.keyboard.press("a")
    expect(page.locator(".toast", has_text=f"Example #{returned_id} approved.")).to_be_visible()


def build_version_in_background(page: Any) -> None:
    """The version is created by a worker: the page shows the build, which runs here (the
    browser tests start no worker), and the page's polling then moves on to the version."""
    page.wait_for_url(re.compile(r".*/versions/builds/\d+$"))
    expect(page.locator("#version-build")).to_be_visible()
    builds.run_build(int(page.url.rsplit("/", 1)[1]))


def _create_version_and_download(page: Any, project_id: int, shot: str, tmp: Path) -> Path:
    page.goto(f"/projects/{project_id}")
    page.locator("nav.tabs").get_by_role("link", name="Versions").click()
    page.get_by_role("button", name="Create the first version").click()
    page.get_by_label("Note").fill("First reviewed set")
    screenshot(page, f"review-{shot}-09-new-version")
    page.get_by_role("button", name="Check for overlaps and continue").click()
    expect(page.locator("#no-leakage")).to_be_visible()
    expect(page.locator("[data-split='test']")).to_have_text("1")
    screenshot(page, f"review-{shot}-10-check")
    page.get_by_role("button", name="Create version").click()
    build_version_in_background(page)
    expect(page.locator("#version-title")).to_contain_text("version 1")
    expect(page.locator("#version-counts [data-split='train']")).to_have_text(str(len(EXAMPLES)))
    page.locator("#token-chart").wait_for()
    screenshot(page, f"review-{shot}-11-version")
    with page.expect_download() as download:
        page.locator("a[data-format='vertex'][data-split='train']").click()
    path = tmp / download.value.suggested_filename
    download.value.save_as(path)
    return path


def test_expert_reviewer_manager_journey(
    page: Any, session: Session, database_url: str, running_worker: None, tmp_path: Path
) -> None:
    shot = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    expert = create_user(session, name="Emi Sato", email="emi@example.com")
    reviewer = create_user(session, name="Rei Tanaka", email="rei@example.com")
    manager = create_user(session, name="Mika Ito", email="mika@example.com")
    project = create_project(
        session,
        name="Support replies",
        members={expert: Role.EXPERT, reviewer: Role.REVIEWER, manager: Role.MANAGER},
    )
    _log_in(page, expert)
    _upload_examples(page, project.id, shot, tmp_path)
    ids = list(session.scalars(select(Example.id).order_by(Example.id)))
    assert len(ids) == len(EXAMPLES) + 1

    _log_in(page, reviewer)
    _review_with_keyboard(page, project.id, ids, shot)
    _log_in(page, expert)
    _fix_and_resubmit(page, project.id, ids[2], shot)
    _log_in(page, reviewer)
    _approve_fixed(page, project.id, ids[2], shot)

    _log_in(page, manager)
    path = _create_version_and_download(page, project.id, shot, tmp_path)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == len(EXAMPLES)
    texts = json.dumps(lines, ensure_ascii=False)
    assert "free of charge" in texts and "100 yen" not in texts
    assert GOLDEN[0] not in texts  # the golden test example never trains

    # The same pages in Japanese.
    _language(page, "日本語")
    expect(page.locator("#version-title")).to_contain_text("バージョン 1")
    screenshot(page, f"review-{shot}-12-version-ja")
    page.goto(f"/projects/{project.id}/review/progress")
    screenshot(page, f"review-{shot}-13-progress-ja")
    page.goto(f"/projects/{project.id}/review/table?status=all")
    screenshot(page, f"review-{shot}-14-table-ja")
    page.goto(f"/projects/{project.id}/review/examples/{ids[2]}/history")
    screenshot(page, f"review-{shot}-15-history-ja")
    _log_in(page, reviewer)
    _language(page, "日本語")
    page.goto(f"/projects/{project.id}/review/examples/{ids[1]}")
    expect(page.locator("#card-title")).to_contain_text(str(ids[1]))
    screenshot(page, f"review-{shot}-16-card-ja")
    _log_in(page, expert)
    _language(page, "日本語")
    page.goto(f"/projects/{project.id}/my-examples/new")
    screenshot(page, f"review-{shot}-17-add-example-ja")
