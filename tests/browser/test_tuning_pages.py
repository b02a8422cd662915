"""The other tuning screens in Chromium, English and Japanese: jobs list, approval, a failed
job, the comparison of two runs, the budget, the administrators' model catalog. Screenshots:
screenshots/tuning-pages-*.png (look at them)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from app.db import utcnow
from app.projects.permissions import Role
from app.tuning.models import JobEvent, JobState, MetricPoint, TuningBudget
from tests.browser.conftest import screenshot
from tests.factories import PASSWORD, create_project, create_user
from tests.tuning.factories import job_row, versioned_examples

pytestmark = pytest.mark.browser


def _curves(session: Session, job_id: int, rise: float) -> None:
    for step in range(1, 61):
        session.add(
            MetricPoint(
                job_id=job_id, metric="train_loss", step=step, value=2.2 * 0.93**step + 0.15
            )
        )
        session.add(
            MetricPoint(
                job_id=job_id, metric="train_accuracy", step=step, value=0.9 - 0.5 * 0.93**step
            )
        )
    for step in range(6, 61, 6):
        loss = 1.8 * 0.8**step + 0.45 + rise * max(0, step - 30) / 30
        session.add(MetricPoint(job_id=job_id, metric="validation_loss", step=step, value=loss))
        session.add(
            MetricPoint(
                job_id=job_id, metric="validation_accuracy", step=step, value=0.85 - 0.4 * 0.8**step
            )
        )


def test_tuning_pages_in_both_languages(page: Any, session: Session, database_url: str) -> None:
    db = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    admin = create_user(session, name="Aiko Admin", email="aiko@example.com", is_admin=True)
    project = create_project(session, name="Support replies", members={admin: Role.MANAGER})
    version, examples = versioned_examples(session, project=project, actor=admin, count=120)
    ended = utcnow() - timedelta(hours=1)
    checkpoints = [
        {
            "checkpoint_id": str(e),
            "epoch": e,
            "step": 20 * e,
            "endpoint": f"projects/1/locations/us-central1/endpoints/{e}",
        }
        for e in (1, 2, 3)
    ]
    common = {
        "state": JobState.SUCCEEDED,
        "started_at": ended - timedelta(minutes=40),
        "finished_at": ended,
        "completed_steps": 60,
        "total_steps": 60,
        "completed_epochs": 3,
        "checkpoints": checkpoints,
    }
    first = job_row(
        session,
        project=project,
        version=version,
        display_name="FAQ v1 · 3 epochs",
        billable_tokens=12_000,
        final_train_loss=0.16,
        final_validation_loss=0.47,
        remote_name="projects/1/locations/us-central1/tuningJobs/1",
        **common,
    )
    second = job_row(
        session,
        project=project,
        version=version,
        display_name="FAQ v1 · 8 epochs",
        estimated_cost=0.41,
        hyperparameters={"epochs": 8, "learning_rate_multiplier": 2.0, "adapter_size": 8},
        billable_tokens=32_000,
        final_train_loss=0.15,
        final_validation_loss=0.98,
        remote_name="projects/1/locations/us-central1/tuningJobs/2",
        **common,
    )
    _curves(session, first.id, rise=0.0)
    _curves(session, second.id, rise=0.6)
    failed = job_row(
        session,
        project=project,
        version=version,
        display_name="FAQ v1 · failed",
        state=JobState.FAILED,
        remote_name="projects/1/locations/us-central1/tuningJobs/3",
        finished_at=ended,
        error={
            "source": "vertex",
            "code": "internal",
            "params": {"step": 21},
            "raw": "internal error at step 21",
        },
        data_stats={
            "example_count": 110,
            "billable_tokens_per_epoch": 4000,
            "affected_count": 2,
            "affected": [
                {
                    "index": 4,
                    "example_id": examples[3].id,
                    "reason": "Example has 140000 tokens, more than the limit of 131072; "
                    "it was truncated.",
                },
                {
                    "index": 9,
                    "example_id": examples[8].id,
                    "reason": "Example has no model turn to learn from; it was dropped.",
                },
            ],
        },
    )
    session.add(JobEvent(job_id=failed.id, kind="failed", params={"error": failed.error}))
    waiting = job_row(
        session,
        project=project,
        version=version,
        display_name="FAQ v1 · big run",
        state=JobState.AWAITING_APPROVAL,
        estimated_cost=12.5,
        approval_reasons=[
            {"code": "over_budget", "params": {"cost": 12.5, "total": 13.2, "budget": 10.0}}
        ],
    )
    session.add(TuningBudget(project_id=project.id, monthly_budget=10.0, approval_threshold=5.0))
    session.commit()

    page.goto("/login")
    page.get_by_label("E-mail address").fill("aiko@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_have_text("Your projects")

    for lang in ("en", "ja"):
        if lang == "ja":
            page.get_by_role("button", name="日本語").click()
            expect(page.locator("html")).to_have_attribute("lang", "ja")
        page.goto(f"/projects/{project.id}/tuning")
        expect(page.locator("#jobs-table tbody tr")).to_have_count(4)
        screenshot(page, f"tuning-pages-{db}-{lang}-01-jobs")
        page.goto(f"/projects/{project.id}/tuning/{waiting.id}")
        expect(page.locator("#approve-button")).to_be_visible()
        screenshot(page, f"tuning-pages-{db}-{lang}-02-approval")
        page.goto(f"/projects/{project.id}/tuning/{failed.id}")
        expect(page.locator("#job-error")).to_be_visible()
        expect(page.locator(".affected-list li")).to_have_count(2)
        screenshot(page, f"tuning-pages-{db}-{lang}-03-failed")
        page.goto(f"/projects/{project.id}/tuning/experiments")
        page.locator(f"#experiment-{first.id} input[type=checkbox]").check()
        page.locator(f"#experiment-{second.id} input[type=checkbox]").check()
        page.locator("#compare-button").click()
        expect(page.locator("#comparison")).to_be_visible()
        expect(page.locator("#compare-loss")).to_be_visible()
        screenshot(page, f"tuning-pages-{db}-{lang}-04-compare")
        page.goto(f"/projects/{project.id}/tuning/budget")
        expect(page.locator("#month-spend")).to_be_visible()
        screenshot(page, f"tuning-pages-{db}-{lang}-05-budget")
        page.goto("/admin/tuning-models")
        expect(page.locator("#catalog-models tbody tr")).to_have_count(8)
        expect(page.locator("#catalog-checked")).to_be_visible()
        screenshot(page, f"tuning-pages-{db}-{lang}-06-catalog")
    expect(page.locator("#model-gemini-2\\.0-flash-lite-001")).to_contain_text("提供終了")
