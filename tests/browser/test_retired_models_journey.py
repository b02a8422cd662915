"""Gemini 2.5 retired on Vertex AI on 2026-10-20, in Chromium (English and Japanese): a job on a
2.5 model cannot be launched and the refusal names the successor; an existing 2.5 job is
flagged on its page, the experiment log and the dashboard, and "Re-tune on Gemini 3.5 Flash"
opens the new-job form with the same version and comparable settings.
Screenshots: screenshots/retired-*.png."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from app.projects.permissions import Role
from app.tuning.models import JobState
from tests.browser.conftest import screenshot
from tests.emulator_fixture import EmulatorServer, emulator, emulator_server  # noqa: F401
from tests.factories import PASSWORD, create_project, create_user
from tests.tuning.conftest import emulator_env
from tests.tuning.factories import job_row, versioned_examples

pytestmark = [pytest.mark.browser]


@pytest.fixture
def journey_env(
    embedded_process_env: dict[str, str],
    emulator: EmulatorServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    emulator.use(monkeypatch)
    embedded_process_env.update(emulator_env(emulator))
    return embedded_process_env


def test_retired_models_are_refused_flagged_and_re_tuned(
    journey_env: dict[str, str], page: Any, session: Session, database_url: str
) -> None:
    db = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    manager = create_user(session, name="Mina Sato", email="mina@example.com")
    project = create_project(session, name="Support replies", members={manager: Role.MANAGER})
    version, _examples = versioned_examples(session, project=project, actor=manager, count=100)
    old = job_row(
        session,
        project=project,
        version=version,
        base_model="gemini-2.5-flash",
        display_name="Support replies v1 · Gemini 2.5 Flash",
        state=JobState.SUCCEEDED,
        hyperparameters={"epochs": 4, "learning_rate_multiplier": 1.5, "adapter_size": 8},
        tuned_endpoint="projects/1/locations/us-central1/endpoints/25",
        tuned_model_name="projects/1/locations/us-central1/models/25@1",
    )
    session.commit()

    page.goto("/login")
    page.get_by_label("E-mail address").fill("mina@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_have_text("Your projects")

    # The existing 2.5 job is flagged with "Re-tune on <successor>".
    page.goto(f"/projects/{project.id}/tuning/{old.id}")
    banner = page.locator("#retune-banner")
    expect(banner).to_contain_text("Gemini 2.5 Flash was retired on Oct 20, 2026.")
    expect(page.locator("#improve-button")).to_have_count(0)  # a retired model is not improved
    screenshot(page, f"retired-{db}-en-01-job")
    page.goto(f"/projects/{project.id}/tuning/experiments")
    expect(page.locator(f"#experiment-{old.id}")).to_contain_text("retired")
    screenshot(page, f"retired-{db}-en-02-experiment-log")
    page.goto("/dashboard")
    expect(page.locator("#retired-models")).to_contain_text(old.display_name)
    screenshot(page, f"retired-{db}-en-03-dashboard")

    # "Re-tune on" opens the form prefilled: same version, the successor, the same settings.
    page.locator("#retired-models .retune-link").click()
    expect(page.locator("#f-version")).to_have_value(str(version.id))
    expect(page.locator("#f-base_model")).to_have_value("gemini-3.5-flash")
    expect(page.locator("#f-epochs")).to_have_value("4")
    expect(page.locator("#f-learning_rate_multiplier")).to_have_value("1.5")
    expect(page.locator("#f-adapter_size")).to_have_value("8")
    expect(page.locator(".readiness")).to_have_text("✓ Ready to launch")
    screenshot(page, f"retired-{db}-en-04-retune-form")

    # A launch on 2.5 (an old link, a bookmark) is refused, naming the successor.
    page.goto(f"/projects/{project.id}/tuning/new?version={version.id}&base_model=gemini-2.5-flash")
    expect(page.locator("#check-model_status")).to_contain_text(
        "Gemini 2.5 Flash was retired on Oct 20, 2026 and can no longer be tuned. "
        "Choose Gemini 3.5 Flash."
    )
    expect(page.locator("#retired-warning")).to_contain_text("Use Gemini 3.5 Flash instead")
    expect(page.locator("#launch-button")).to_be_disabled()
    screenshot(page, f"retired-{db}-en-05-refused")

    # The same in Japanese.
    page.get_by_role("button", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("#check-model_status")).to_contain_text("Gemini 3.5 Flash")
    expect(page.locator("#retired-warning")).to_contain_text("代わりに Gemini 3.5 Flash を使う")
    screenshot(page, f"retired-{db}-ja-05-refused")
    page.goto(f"/projects/{project.id}/tuning/{old.id}")
    expect(page.locator("#retune-banner")).to_contain_text("提供終了しました")
    expect(page.locator("#retune-link")).to_contain_text("Gemini 3.5 Flash")
    screenshot(page, f"retired-{db}-ja-01-job")
    page.locator("#retune-link").click()
    expect(page.locator("#f-base_model")).to_have_value("gemini-3.5-flash")
    expect(page.locator("#f-epochs")).to_have_value("4")
    screenshot(page, f"retired-{db}-ja-04-retune-form")
    page.goto("/dashboard")
    expect(page.locator("#retired-models")).to_contain_text(old.display_name)
    screenshot(page, f"retired-{db}-ja-03-dashboard")
