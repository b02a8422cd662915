"""The intake journey in a real browser, with the real web server and a real Celery worker, in
English and in Japanese: upload a messy file, map its columns, watch the import's progress bar,
fix a row inline, keep one of a duplicate group, redact an e-mail address — and see the counts
change after each fix. Screenshots land in ./screenshots (look at them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from app.projects.permissions import Role
from tests.browser.conftest import screenshot
from tests.datasets.factories import csv_bytes, distinct_rows
from tests.factories import PASSWORD, create_project, create_user
from tests.processes import worker

pytestmark = [pytest.mark.browser, pytest.mark.worker]

TEXT = {
    "en": {
        "tab": "Datasets",
        "empty": "No examples yet",
        "import": "Import this file",
        "saved": "Row 3 saved and checked: no errors.",
        "kept": "Row 4 is kept; 1 duplicate was excluded.",
        "redacted": "1 piece of personal data in row 6 was replaced by a placeholder.",
    },
    "ja": {
        "tab": "データセット",
        "empty": "まだ例がありません",
        "import": "このファイルを取り込む",
        "saved": "行 3 を保存してチェックしました。エラーはありません。",
        "kept": "行 4 を残し、重複 1 件を除外しました。",
        "redacted": "行 6 の個人情報 1 件をプレースホルダーに置き換えました。",
    },
}


def messy_file(rows: int) -> bytes:
    """A support export as people make them: the question column is not recognised by name, and
    the first rows hold an empty answer, a duplicate, an e-mail address and stray spaces."""
    pairs = distinct_rows(rows, seed=3)
    messy = [
        ["ID", "Customer said", "Our reply", "Topic"],
        ["1", "Can I change my delivery address?", "Yes, until the parcel ships.", "delivery"],
        ["2", "Do you gift wrap orders?", "", "gifts"],
        ["3", "How do I reset my password?", "Use the Forgot password link.", "account"],
        ["4", "How do I reset my PASSWORD?", "Use the Forgot password link.", "account"],
        ["5", "Who handles refunds?", "Write to hana.mori@example.com for refunds.", "refunds"],
        ["6", "  Is there a store in Osaka?", "Yes, in Umeda.", "stores"],
    ]
    return csv_bytes(messy + [[str(i + 7), q, a, "misc"] for i, (q, a) in enumerate(pairs)])


@pytest.fixture
def running_worker(embedded_process_env: dict[str, str], tmp_path: Path) -> Iterator[None]:
    process = worker(embedded_process_env, tmp_path).start(ready_text="ready.")
    yield
    process.stop()


def _stat(page: Any, name: str) -> str:
    return str(page.locator(f"#summary [data-stat={name}]").inner_text()).strip()


def _row(page: Any, number: int) -> Any:
    return page.locator(f"#rows article.row-card[data-row='{number}']")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_upload_map_watch_fix_keep_redact(
    page: Any,
    session: Session,
    database_url: str,
    running_worker: None,
    tmp_path: Path,
    lang: str,
) -> None:
    text = TEXT[lang]
    shot = f"intake-{lang}-{'sqlite' if database_url.startswith('sqlite') else 'postgresql'}"
    user = create_user(session, name="Aiko Tanaka", email="aiko@example.com")
    project = create_project(session, name="Support replies", members={user: Role.MANAGER})
    page.goto("/login")
    page.get_by_label("E-mail address").fill("aiko@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#project-list")).to_be_visible()
    if lang == "ja":
        page.get_by_role("button", name="日本語").click()
        expect(page.locator("html")).to_have_attribute("lang", "ja")

    # The empty state: upload a file, or load a sample.
    page.goto(f"/projects/{project.id}")
    page.locator("nav.tabs").get_by_role("link", name=text["tab"]).click()
    expect(page.locator(".empty-state h2")).to_have_text(text["empty"])
    expect(page.locator("button[data-sample]")).to_have_count(2)
    screenshot(page, f"{shot}-01-empty")
    data = tmp_path / "support export.csv"
    data.write_bytes(messy_file(20_000))
    page.locator("#new-file").set_input_files(str(data))
    page.locator("#new-dataset button[type=submit]").click()

    # The mapping step: "Our reply" and "Topic" are recognised, the question column is not.
    expect(page.locator("#f-output-column")).to_have_value("Our reply")
    expect(page.locator("#f-tag-column")).to_have_value("Topic")
    expect(page.locator("#f-input-column")).to_have_value("ID")
    page.locator("#f-input-column").select_option("Customer said")
    expect(page.locator("#preview-examples tbody tr").first).to_contain_text(
        "Can I change my delivery address?"
    )
    screenshot(page, f"{shot}-02-mapping")

    # The import runs in the worker; the progress bar moves while it does.
    page.get_by_role("button", name=text["import"]).click()
    bar = page.locator("#progress progress")
    expect(bar).to_be_visible()
    seen: list[str] = []
    shot_taken = False
    read_bar = "() => document.querySelector('#progress progress')?.getAttribute('value') ?? null"
    while (value := page.evaluate(read_bar)) is not None:
        if value not in seen:
            seen.append(value)
        if value != "0" and not shot_taken:
            screenshot(page, f"{shot}-03-progress")
            shot_taken = True
        page.wait_for_timeout(100)
    assert len(seen) >= 2, f"the progress bar never moved: {seen}"

    # The report: counts, then every fix changes them at once.
    expect(page.locator("#summary [data-stat=rows]")).to_have_text("20,006")
    assert (_stat(page, "errors"), _stat(page, "duplicates"), _stat(page, "pii")) == ("1", "1", "1")
    expect(_row(page, 3).locator("mark, .finding-error")).not_to_have_count(0)
    screenshot(page, f"{shot}-04-report")

    # The dataset-wide check runs after the import; the summary stops polling when it is done.
    # When it finishes the rows refresh once; an editor opened during that refresh could be
    # swapped into the row the refresh replaces, so wait for the page to be quiet.
    expect(page.locator("#summary[hx-trigger]")).to_have_count(0, timeout=60_000)
    page.wait_for_load_state("networkidle")
    _row(page, 3).locator("[data-action=edit]").click()
    editor = page.locator("form.row-edit")
    answer = editor.locator("textarea[name=texts]").nth(1)
    answer.fill("Yes: choose gift wrap at checkout.")
    expect(answer).to_have_value("Yes: choose gift wrap at checkout.")
    screenshot(page, f"{shot}-05-edit")
    editor.locator("[data-action=save]").click()
    expect(page.locator(".toast").last).to_contain_text(text["saved"])
    expect(page.locator("#summary [data-stat=errors]")).to_have_text("0")

    _row(page, 4).locator("[data-action=keep]").click()
    expect(page.locator(".toast").last).to_contain_text(text["kept"])
    expect(page.locator("#summary [data-stat=duplicates]")).to_have_text("0")
    expect(page.locator("#summary [data-stat=excluded]")).to_have_text("1")

    expect(_row(page, 6).locator("mark.hl-pii_email")).to_have_text("hana.mori@example.com")
    _row(page, 6).locator("[data-action=redact]").click()
    expect(page.locator(".toast").last).to_contain_text(text["redacted"])
    expect(page.locator("#summary [data-stat=pii]")).to_have_text("0")
    page.locator("#f-show").select_option("all")
    expect(_row(page, 6)).to_contain_text("Write to [EMAIL] for refunds.")
    screenshot(page, f"{shot}-06-fixed")

    # Every fix is in the change log, who and when, before and after.
    page.goto(page.url.split("?")[0] + "/history")
    expect(page.locator("#change-log > li")).to_have_count(4)
    expect(page.locator("#change-log")).not_to_contain_text("hana.mori@example.com")
    screenshot(page, f"{shot}-07-history")
