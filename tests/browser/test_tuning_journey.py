"""A manager's tuning journey in Chromium, with a real worker, beat and the emulator:
open the planner for a version (the target of the version page's "Tune a model on this version"
button), read the recommendation, launch, watch the progress bar move and the job finish, open
the curves, the experiment log and the dashboard; then the same pages in Japanese.
Screenshots: screenshots/tuning-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from app.projects.permissions import Role
from tests.browser.conftest import screenshot
from tests.emulator_fixture import EmulatorServer, emulator, emulator_server  # noqa: F401
from tests.factories import PASSWORD, create_project, create_user
from tests.processes import beat, worker
from tests.tuning.conftest import emulator_env
from tests.tuning.factories import versioned_examples

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.slow]


@pytest.fixture
def journey_env(
    embedded_process_env: dict[str, str],
    emulator: EmulatorServer,  # noqa: F811  (the fixture imported above)
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """Set up before the live server starts (pytest sets fixtures up in argument order)."""
    emulator.use(monkeypatch)
    embedded_process_env.update(emulator_env(emulator))
    emulator.settings(time_scale=6)  # the recommended 5 epochs take about a minute
    return embedded_process_env


@pytest.fixture
def background(journey_env: dict[str, str], tmp_path: Path) -> Iterator[None]:
    running = worker(journey_env, tmp_path).start(ready_text="ready.")
    scheduler = beat(journey_env, tmp_path).start(ready_text="beat: Starting")
    yield
    scheduler.stop()
    running.stop()


def progress_value(tab: Any) -> int:
    return int(tab.locator("progress.job-progress").get_attribute("value") or 0)


def test_manager_launches_watches_and_reviews_a_tuning_job(
    journey_env: dict[str, str],
    background: None,
    page: Any,
    session: Session,
    database_url: str,
) -> None:
    db = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    manager = create_user(session, name="Mina Sato", email="mina@example.com")
    project = create_project(session, name="Support replies", members={manager: Role.MANAGER})
    version, _examples = versioned_examples(session, project=project, actor=manager, count=100)

    page.goto("/login")
    page.get_by_label("E-mail address").fill("mina@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_have_text("Your projects")

    # The manager opens the version and asks to tune on it: the planner shows the
    # recommendation, why, the knobs, the checklist and the cost.
    page.goto(f"/projects/{project.id}/versions/{version.id}")
    screenshot(page, f"tuning-{db}-en-00-version")
    page.locator("#tune-version").click()
    expect(page).to_have_url(
        re.compile(rf"/projects/{project.id}/tuning/new\?version={version.id}$")
    )
    expect(page.locator("#recommendation")).to_contain_text("Google's guidance for such data")
    expect(page.locator("#f-epochs")).to_have_value("5")
    expect(page.locator("#knob-epochs .knob-help")).to_contain_text(
        "how many times the model reads your examples"
    )
    expect(page.locator(".readiness")).to_have_text("✓ Ready to launch")
    expect(page.locator("#estimate")).to_contain_text("Unverified price")
    screenshot(page, f"tuning-{db}-en-01-planner")

    # Today's models: Gemini 3.5 Flash is the default, retired 2.5 models are not offered, and
    # the region check says where the tuned model will answer.
    expect(page.locator("#f-base_model")).to_have_value("gemini-3.5-flash")
    offered = page.locator("#f-base_model option").all_inner_texts()
    assert not any("2.5" in option or "2.0" in option for option in offered), offered
    expect(page.locator("#check-region")).to_contain_text("answer from the us endpoint")
    # Changing the model re-renders the planner in place (HTMX).
    page.locator("#f-base_model").select_option("gemini-3.1-flash-lite")
    expect(page.locator("#model-facts")).to_contain_text("tunes in us-central1, europe-west4")
    expect(page.locator("#check-region")).to_contain_text("Gemini 3.1 Flash-Lite")
    page.locator("#f-base_model").select_option("gemini-3.5-flash")
    expect(page.locator("#model-facts")).to_contain_text("1, 2, 4, 8, 16")

    page.get_by_role("button", name="Launch tuning").click()
    expect(page.locator(".toast").last).to_contain_text("Tuning job launched")
    expect(page.locator("#status-card")).to_be_visible()

    # The status card updates itself: the bar moves while the job trains.
    expect(page.locator("#status-card .status-line")).to_contain_text("Running", timeout=60_000)
    page.wait_for_function(
        "() => { const p = document.querySelector('progress.job-progress');"
        " return p && p.value > 0 && p.value < p.max; }",
        timeout=60_000,
    )
    first = progress_value(page)
    screenshot(page, f"tuning-{db}-en-02-running")
    page.wait_for_function(
        "(first) => { const p = document.querySelector('progress.job-progress');"
        " return p && p.value > first; }",
        arg=first,
        timeout=60_000,
    )
    assert progress_value(page) > first
    expect(page.locator("#chart-loss-box")).to_have_class("chart-box has-data", timeout=30_000)
    screenshot(page, f"tuning-{db}-en-03-progress-moved")

    # The job ends; the page stops polling and shows the curves and the diagnosis.
    expect(page.locator("#status-card .status-line")).to_have_text("Succeeded", timeout=120_000)
    expect(page.locator("#job-live")).not_to_have_attribute("hx-trigger", "every 3s")
    expect(page.locator("#diagnosis .verdict")).not_to_be_empty()
    expect(page.locator("#recommended-checkpoint")).to_contain_text("checkpoint")
    page.locator("#curves").scroll_into_view_if_needed()
    screenshot(page, f"tuning-{db}-en-04-finished")
    verdict = page.locator("#diagnosis").get_attribute("data-verdict")
    assert verdict in ("over_fitting", "healthy", "under_trained")
    job_url = page.url
    endpoint = page.locator("#tuned-endpoint").inner_text()
    assert "/locations/us/endpoints/" in endpoint  # tuned 3.x: the multi-region location

    # The manager serves the first checkpoint in one click, then improves the model from it.
    page.locator("#checkpoints tbody tr").first.get_by_role("button", name="Serve this one").click()
    expect(page.locator(".toast").last).to_contain_text("is now the one the tuned model serves")
    expect(page.locator("#checkpoints tbody tr").first).to_contain_text("served")
    expect(page.locator("#run-log")).to_contain_text("the served checkpoint")
    page.locator("#curves").scroll_into_view_if_needed()
    screenshot(page, f"tuning-{db}-en-04b-served-checkpoint")
    page.locator("#improve-button").click()
    expect(page.locator("#continuing")).to_contain_text("continues from")
    expect(page.locator("#recommendation")).to_contain_text("This run continues from")
    screenshot(page, f"tuning-{db}-en-07-improve-planner")
    page.get_by_role("button", name="Launch tuning").click()
    expect(page.locator("#lineage li")).to_have_count(2)
    screenshot(page, f"tuning-{db}-en-08-improved-job")

    # The experiment log has the run, with its figures.
    page.locator(".subnav").get_by_role("link", name="Experiment log").click()
    row = page.locator("#experiments tbody tr").first
    expect(row).to_contain_text("gemini-3.5-flash")
    expect(row.locator(".lineage-note")).to_contain_text("continues")
    expect(page.locator("#experiments tbody tr").nth(1).locator(".state-badge")).to_have_text(
        "Succeeded"
    )
    screenshot(page, f"tuning-{db}-en-05-experiment-log")

    page.locator("#topbar").get_by_role("link", name="Dashboard").click()
    expect(page.locator("#stat-finished .stat-value")).to_have_text("1")
    screenshot(page, f"tuning-{db}-en-06-dashboard")

    # The same pages in Japanese.
    page.get_by_role("button", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("h1")).to_have_text("ダッシュボード")
    expect(page.locator("#stat-finished .stat-label")).to_have_text("今月完了")
    screenshot(page, f"tuning-{db}-ja-06-dashboard")
    page.goto(f"/projects/{project.id}/tuning/new?version={version.id}")
    expect(page.locator(".readiness")).to_have_text("✓ 開始できます")
    expect(page.locator("#knob-epochs .knob-help")).to_contain_text("モデルが例を読み込む回数")
    expect(page.locator("#estimate")).to_contain_text("未確認の料金")
    screenshot(page, f"tuning-{db}-ja-01-planner")
    page.goto(job_url)
    expect(page.locator("#status-card .status-line")).to_have_text("成功")
    expect(page.locator("#checkpoints")).to_contain_text("提供中")
    expect(page.locator("#diagnosis .verdict")).not_to_be_empty()
    expect(page.locator("#run-log")).to_contain_text("チューニング済みモデルの準備ができました。")
    screenshot(page, f"tuning-{db}-ja-04-finished")
    page.locator(".subnav").get_by_role("link", name="実験ログ").click()
    rows = page.locator("#experiments tbody tr")
    expect(rows.nth(1).locator(".state-badge")).to_have_text("成功")
    expect(page.locator("#experiments tbody tr").first.locator(".lineage-note")).to_contain_text(
        "継続元"
    )
    screenshot(page, f"tuning-{db}-ja-05-experiment-log")
