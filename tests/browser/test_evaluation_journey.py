"""The evaluation journey in a real browser: a reviewer votes blind on five questions (sides
randomised, model names hidden until each vote), then opens the compare screen, filters "tuned
worse", fixes one answer and finds the corrected example in the review queue.
Screenshots: screenshots/evaluation-*.png, in English and Japanese."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.datasets.models import Example
from app.evaluations import votes
from app.evaluations.models import HumanVote
from app.projects.permissions import Role
from tests.browser.conftest import SCREENSHOTS, screenshot
from tests.browser.test_review_journey import _language, _log_in
from tests.evaluations.factories import WORSE_POSITIONS, finished_evaluation
from tests.factories import project_with_roles

pytestmark = pytest.mark.browser


def _vote_five(page: Any, built: Any, reviewer: Any, shot: str) -> list[bool]:
    """Vote on the first five questions, preferring the tuned answer; returns A-is-tuned."""
    sides = []
    for index in range(5):
        item = built.items[index]
        expect(page.locator('#vote-form input[name="item_id"]')).to_have_value(str(item.id))
        html = page.locator("#ballot").inner_html()
        for secret in (built.baseline.label, built.tuned.label, built.tuned.model):
            assert secret not in html
        tuned_is_a = votes.a_is_tuned(item.id, reviewer.id)
        sides.append(tuned_is_a)
        if index == 0:
            screenshot(page, f"evaluation-{shot}-vote-blind")
        # Keyboard for the first two, buttons for the rest.
        if index < 2:
            page.keyboard.press("a" if tuned_is_a else "b")
        else:
            label = "A is better" if tuned_is_a else "B is better"
            page.get_by_role("button", name=label).click()
        expect(page.locator("#vote-result")).to_contain_text(
            f"A was {built.tuned.label if tuned_is_a else built.baseline.label}"
        )
        if index == 0:
            screenshot(page, f"evaluation-{shot}-vote-revealed")
        page.get_by_role("button", name="Next question").click()
    return sides


def test_vote_compare_filter_fix_and_find_in_queue(
    page: Any, session: Session, database_url: str
) -> None:
    shot = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    project, users = project_with_roles(session)
    reviewer = users[Role.REVIEWER]
    built = finished_evaluation(session, project=project, actor=users[Role.MANAGER])
    run_url = f"/projects/{project.id}/evaluations/{built.evaluation.id}"

    _log_in(page, reviewer)
    page.goto(f"/projects/{project.id}/evaluations")
    expect(page.locator(f"#evaluation-row-{built.evaluation.id}")).to_contain_text("Finished")
    screenshot(page, f"evaluation-{shot}-list")
    page.get_by_role("link", name=built.evaluation.name).click()
    page.get_by_role("button", name="Vote blind").click()
    _vote_five(page, built, reviewer, shot)  # each reveal matched the side computed here
    # Sides vary across questions (five can all fall the same way by chance; twenty do not).
    assert {votes.a_is_tuned(item.id, reviewer.id) for item in built.items} == {True, False}
    expect(page.locator("#vote-count")).to_have_text("5 of 20 questions voted")
    session.expire_all()
    assert len(session.scalars(select(HumanVote)).all()) == 5

    page.goto(run_url)
    expect(page.locator("#verdict")).to_contain_text("The tuned model is better on 75%")
    expect(page.locator("#human-better")).to_contain_text("100%")
    expect(page.locator("#agreement")).to_contain_text(
        "80%"
    )  # the judge preferred the original on #5
    screenshot(page, f"evaluation-{shot}-compare")
    page.get_by_text("Tuned worse than baseline").click()
    expect(page).to_have_url(re.compile(r"\?show=worse"))  # the filter is in the URL
    expect(page.locator("article.eval-item")).to_have_count(len(WORSE_POSITIONS))
    screenshot(page, f"evaluation-{shot}-tuned-worse")

    target = built.items[min(WORSE_POSITIONS)]
    card = page.locator(f"#item-{target.id}")
    card.locator(".answer.role-tuned").get_by_role("button", name="Fix this answer").click()
    corrected = page.get_by_label("Corrected answer")
    expect(corrected).to_have_value("Refunds are not possible.")
    corrected.fill(
        "Request a refund under My orders within 30 days; it is back on your card in 5 days."
    )
    screenshot(page, f"evaluation-{shot}-fix")
    page.get_by_role("button", name="Send to the review queue").click()
    expect(page.locator(".toast", has_text="waiting in the review queue")).to_be_visible()
    expect(page.locator(f"#item-{target.id} .fixed-badge")).to_be_visible()

    session.expire_all()
    example = session.scalars(select(Example).where(Example.origin == "evaluation")).one()
    assert example.status == "pending" and example.split == "train"
    page.goto(f"/projects/{project.id}/review/table?origin=evaluation")
    row = page.locator(f"#row-{example.id}")
    expect(row).to_contain_text("within 30 days; it is back on your card")
    expect(row.locator(".origin-evaluation")).to_have_text("From an evaluation")
    screenshot(page, f"evaluation-{shot}-review-queue")

    # The same screens in Japanese.
    _language(page, "日本語")
    page.goto(run_url)
    expect(page.locator("#verdict")).to_contain_text("チューニング")
    screenshot(page, f"evaluation-{shot}-compare-ja")
    page.screenshot(path=str(SCREENSHOTS / f"evaluation-{shot}-compare-ja-top.png"))  # summary
    page.goto(f"{run_url}/vote")
    expect(page.locator("#ballot")).to_contain_text("ブラインド投票")
    screenshot(page, f"evaluation-{shot}-vote-ja")
    page.goto(f"{run_url}/items/{target.id}/fix?candidate={built.tuned.id}")
    expect(page.locator("#existing-fixes")).to_be_visible()
    screenshot(page, f"evaluation-{shot}-fix-ja")


def test_new_evaluation_form_and_scorecard_over_time(
    page: Any, session: Session, database_url: str
) -> None:
    """From a finished tuning job to a queued evaluation (no worker here: it stays queued and
    its page polls), then the golden set's scorecard with its chart."""
    shot = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    project, users = project_with_roles(session)
    manager = users[Role.MANAGER]
    first = finished_evaluation(session, project=project, actor=manager)
    worse = finished_evaluation(
        session,
        project=project,
        actor=manager,
        version=first.version,
        worse=frozenset(range(0, 20, 2)),
    )
    assert first.job is not None and worse.job is not None

    _log_in(page, manager)
    page.goto(f"/projects/{project.id}/tuning/{first.job.id}")
    page.get_by_role("button", name="Evaluate this model").click()
    expect(page.locator("#f-tuned")).to_have_value(str(first.job.id))
    expect(page.locator("#estimate-items")).to_have_text("20")
    page.get_by_label("The original model with examples in the prompt (few-shot)").check()
    expect(page.locator("#estimate")).to_contain_text("Answers to generate60")
    screenshot(page, f"evaluation-{shot}-new")
    page.get_by_role("button", name="Start the evaluation").click()
    expect(page.locator("#eval-progress")).to_be_visible()
    expect(page.locator("#eval-live")).to_have_attribute("hx-trigger", "every 3s")
    screenshot(page, f"evaluation-{shot}-queued")

    page.goto(f"/projects/{project.id}/evaluations/scorecard")
    page.get_by_role("button", name="Use as golden set").click()
    expect(page.locator("#timeline tbody tr")).to_have_count(2)
    expect(page.locator("#timeline tbody tr").nth(1)).to_contain_text("regression")
    expect(page.locator("#scorecard-chart")).to_be_visible()
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('scorecard-chart'))"
    )
    screenshot(page, f"evaluation-{shot}-scorecard")
    _language(page, "日本語")
    expect(page.locator("#timeline")).to_contain_text("性能低下")
    screenshot(page, f"evaluation-{shot}-scorecard-ja")
    page.goto(f"/projects/{project.id}/evaluations/new")
    expect(page.locator("#estimate")).to_contain_text("見積もり")
    screenshot(page, f"evaluation-{shot}-new-ja")
