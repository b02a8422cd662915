"""The evaluation pages as full pages and HTMX fragments: the list (empty state, polling while a
run is under way), the compare screen (scorecards with intervals, verdict, judge and votes,
items with highlighted differences, filters that work with and without HTMX, pagination) and
what each role may see and do."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.evaluations.models import EvalStatus, Evaluation
from app.projects.models import Project
from app.projects.permissions import Role
from tests.emulator_fixture import EmulatorServer, emulator, emulator_server  # noqa: F401
from tests.evaluations.factories import (
    WORSE_POSITIONS,
    Built,
    finished_evaluation,
    running_evaluation,
    vote,
)
from tests.support import get_page, htmx_headers, login, soup, text_of, toasts


def _run_url(built: Built, query: str = "") -> str:
    evaluation = built.evaluation
    return f"/projects/{evaluation.project_id}/evaluations/{evaluation.id}{query}"


def test_list_shows_an_empty_state_that_tells_a_newcomer_what_to_do(
    client: TestClient, team: tuple[Project, dict[Role, User]], htmx: bool
) -> None:
    project, users = team
    login(client, users[Role.VIEWER])
    page = get_page(client, f"/projects/{project.id}/evaluations", htmx)
    assert page.status_code == 200
    text = text_of(page)
    assert "Nothing to compare yet" in text
    assert "First tune a model" in text
    assert soup(page).select_one('nav.tabs a[aria-current="page"]').get_text() == "Evaluations"


def test_list_shows_runs_with_status_progress_and_verdict_and_polls_while_running(
    client: TestClient,
    session: Session,
    team: tuple[Project, dict[Role, User]],
    built: Built,
    htmx: bool,
) -> None:
    project, users = team
    running = running_evaluation(session, project=project, actor=users[Role.MANAGER])
    login(client, users[Role.VIEWER])
    page = soup(get_page(client, f"/projects/{project.id}/evaluations", htmx))
    section = page.select_one("#evaluations")
    assert section["hx-trigger"] == "every 5s"
    row = page.select_one(f"#evaluation-row-{built.evaluation.id}")
    assert "Finished" in row.get_text()
    assert "Gemini 3.5 Flash (zero-shot)" in row.get_text()
    assert "Tuned better on 75%, worse on 20% of 20 questions" in row.get_text(" ")
    running_row = page.select_one(f"#evaluation-row-{running.id}")
    assert running_row.select_one("progress")["value"] == "3"
    # Once nothing runs, the fragment stops polling.
    stored = session.get(Evaluation, running.id)
    assert stored is not None
    stored.status = EvalStatus.CANCELLED
    session.commit()
    fragment = client.get(
        f"/projects/{project.id}/evaluations", headers=htmx_headers("evaluations")
    )
    assert "<html" not in fragment.text
    assert not soup(fragment).select_one("#evaluations").has_attr("hx-trigger")


def test_compare_screen_summary_scorecards_verdict_and_items(
    client: TestClient, team: tuple[Project, dict[Role, User]], built: Built, htmx: bool
) -> None:
    _project, users = team
    login(client, users[Role.VIEWER])
    page = get_page(client, _run_url(built), htmx)
    assert page.status_code == 200
    html = soup(page)
    verdict = html.select_one("#verdict .verdict-text").get_text()
    assert verdict.startswith(
        "The tuned model is better on 75% of your 20 test questions (95% CI 53%–89%) and worse"
        " on 20%."
    )
    assert "Overall it is better than the original model." in verdict
    assert "worse than the original model on “billing” questions" in verdict
    chrf = html.select_one('tr[data-metric="chrf"]').get_text(" ")
    assert "95% CI" in chrf
    assert "15 / 1 / 4" in html.select_one("#judge-card").get_text()
    assert "Nobody has voted yet" in html.select_one("#human-card").get_text()
    items = html.select("#eval-items article.eval-item")
    assert len(items) == 20
    first = items[0]
    assert first.select_one(".judge-badge")["data-winner"] == "tuned"
    # The tuned answer differs from the reference by one word: that word is highlighted.
    tuned = first.select_one(".answer.role-tuned .answer-diff")
    assert [ins.get_text() for ins in tuned.select("ins")] == ["usually "]
    assert "Judge's reason:" in first.get_text()
    # Viewers read only: no vote or fix buttons.
    assert html.select_one("#vote-link") is None
    assert html.select_one(".fix-link") is None


def test_filter_tuned_worse_works_as_fragment_and_plain_url(
    client: TestClient, team: tuple[Project, dict[Role, User]], built: Built, htmx: bool
) -> None:
    _project, users = team
    login(client, users[Role.EXPERT])
    page = get_page(client, _run_url(built, "?show=worse"), htmx)
    positions = [int(a["data-position"]) for a in soup(page).select("article.eval-item")]
    assert positions == sorted(p + 1 for p in WORSE_POSITIONS)
    fragment = client.get(
        _run_url(built, "?show=worse&tag=billing"), headers=htmx_headers("eval-items")
    )
    assert "<html" not in fragment.text and 'id="eval-items"' in fragment.text
    assert "verdict" not in soup(fragment).select_one("section")["id"]
    assert len(soup(fragment).select("article.eval-item")) == 4
    assert soup(fragment).select_one('input[value="worse"]').has_attr("checked")


def test_filters_lowest_tag_disagree_and_pagination(
    client: TestClient, session: Session, team: tuple[Project, dict[Role, User]], built: Built
) -> None:
    _project, users = team
    login(client, users[Role.VIEWER])
    lowest = soup(client.get(_run_url(built, "?show=lowest")))
    first = lowest.select("article.eval-item")[0]
    assert int(first["data-position"]) - 1 in WORSE_POSITIONS
    by_tag = soup(client.get(_run_url(built, "?tag=account")))
    assert {a.select_one(".badge").get_text() for a in by_tag.select("article.eval-item")} == {
        "account"
    }
    # A human who prefers the original where the judge preferred the tuned model: disagreement.
    vote(session, built=built, item=built.items[0], voter=users[Role.REVIEWER], outcome="baseline")
    vote(session, built=built, item=built.items[1], voter=users[Role.REVIEWER], outcome="tuned")
    disagree = soup(client.get(_run_url(built, "?show=disagree")))
    assert [a["id"] for a in disagree.select("article.eval-item")] == [f"item-{built.items[0].id}"]
    # Bad parameters fall back to defaults instead of failing.
    odd = client.get(_run_url(built, "?show=nonsense&page=abc"))
    assert odd.status_code == 200 and len(soup(odd).select("article.eval-item")) == 20


def test_pagination_keeps_filters(
    client: TestClient, session: Session, team: tuple[Project, dict[Role, User]]
) -> None:
    project, users = team
    built = finished_evaluation(session, project=project, actor=users[Role.MANAGER], count=25)
    login(client, users[Role.VIEWER])
    first = soup(client.get(_run_url(built, "?show=lowest")))
    assert len(first.select("article.eval-item")) == 20
    next_link = first.select_one('.pagination a[rel="next"]')["href"]
    assert "show=lowest" in next_link and "page=2" in next_link
    second = soup(client.get(next_link))
    assert len(second.select("article.eval-item")) == 5


def test_running_evaluation_polls_and_stops_at_a_terminal_state(
    client: TestClient, session: Session, team: tuple[Project, dict[Role, User]], htmx: bool
) -> None:
    project, users = team
    running = running_evaluation(session, project=project, actor=users[Role.MANAGER])
    login(client, users[Role.VIEWER])
    url = f"/projects/{project.id}/evaluations/{running.id}"
    page = soup(get_page(client, url, htmx))
    assert page.select_one("#eval-live")["hx-trigger"] == "every 3s"
    assert page.select_one("#eval-progress progress")["value"] == "3"
    stored = session.get(Evaluation, running.id)
    assert stored is not None
    stored.status, stored.error = EvalStatus.FAILED, {"message": "The model is not reachable."}
    session.commit()
    fragment = client.get(url, headers=htmx_headers("eval-live"))
    live = soup(fragment).select_one("#eval-live")
    assert not live.has_attr("hx-trigger")
    assert "The model is not reachable." in live.select_one("#eval-error").get_text()


def test_a_queued_run_says_whether_it_waits_to_start_or_to_continue(
    client: TestClient, session: Session, team: tuple[Project, dict[Role, User]], htmx: bool
) -> None:
    project, users = team
    run = running_evaluation(session, project=project, actor=users[Role.MANAGER])
    login(client, users[Role.VIEWER])
    url = f"/projects/{project.id}/evaluations/{run.id}"
    stored = session.get(Evaluation, run.id)
    assert stored is not None
    stored.status = EvalStatus.QUEUED  # never claimed yet
    session.commit()
    page = soup(get_page(client, url, htmx))
    assert "Waiting for a worker to start it." in page.select_one("#eval-waiting").get_text()
    assert page.select_one("#eval-continues") is None
    stored.attempts = 1  # a worker had it, then stopped: the run was put back in the queue
    session.commit()
    page = soup(get_page(client, url, htmx))
    continues = page.select_one("#eval-continues").get_text()
    assert "Every answer so far is kept" in continues and page.select_one("#eval-waiting") is None
    assert page.select_one("#eval-progress progress")["value"] == "3"  # the 3 answers are kept
    page = soup(client.get(url, headers={"Accept-Language": "ja"}))
    assert "中断したところから再開します" in page.select_one("#eval-continues").get_text()


def test_roles_see_vote_and_fix_actions_by_permission(
    client: TestClient, team: tuple[Project, dict[Role, User]], built: Built
) -> None:
    _project, users = team
    login(client, users[Role.REVIEWER])
    html = soup(client.get(_run_url(built)))
    assert html.select_one("#vote-link") is not None
    assert len(html.select(".fix-link")) == 40
    login(client, users[Role.EXPERT])
    html = soup(client.get(_run_url(built)))
    assert html.select_one("#vote-link") is None  # experts fix answers but do not vote
    assert html.select_one(".fix-link") is not None
    outsider_page = client.get(f"/projects/{built.evaluation.project_id + 999}/evaluations")
    assert outsider_page.status_code in (403, 404)


def test_japanese_compare_screen(
    client: TestClient, session: Session, team: tuple[Project, dict[Role, User]]
) -> None:
    project, users = team
    built = finished_evaluation(session, project=project, actor=users[Role.MANAGER], language="ja")
    login(client, users[Role.VIEWER])
    html = soup(client.get(_run_url(built), headers={"Accept-Language": "ja"}))
    verdict = html.select_one("#verdict .verdict-text").get_text()
    assert "チューニング" in verdict and "請求" in verdict
    tuned = html.select("article.eval-item")[0].select_one(".answer.role-tuned .answer-diff")
    assert "".join(i.get_text() for i in tuned.select("ins")) == "通常"


def _tuned_job(session: Session, project: Project, built_version: object) -> object:
    from app.tuning.models import JobState
    from tests.tuning.factories import job_row

    return job_row(
        session,
        project=project,
        version=built_version,  # type: ignore[arg-type]
        state=JobState.SUCCEEDED,
        display_name="Support v2",
        tuned_endpoint="projects/1/locations/us-central1/endpoints/77",
        checkpoints=[{"checkpoint_id": "2", "epoch": 2, "step": 20, "endpoint": "e2"}],
    )


def test_new_evaluation_form_estimates_and_starts_a_run(
    client: TestClient, session: Session, team: tuple[Project, dict[Role, User]], htmx: bool
) -> None:
    from tests.evaluations.factories import eval_version

    project, users = team
    version = eval_version(session, project=project, actor=users[Role.MANAGER])
    job = _tuned_job(session, project, version)
    login(client, users[Role.EXPERT])
    url = f"/projects/{project.id}/evaluations/new?job={job.id}"  # type: ignore[attr-defined]
    page = get_page(client, url, htmx)
    assert page.status_code == 200
    html = soup(page)
    assert html.select_one("#f-tuned option[selected]")["value"] == str(job.id)  # type: ignore[attr-defined]
    assert html.select_one("#f-zero_shot").has_attr("checked")
    assert html.select_one("#estimate-items").get_text() == "20"
    assert html.select_one("#estimate-cost").get_text().startswith("$")
    # A change re-renders only the planner; without a judge there are no judge calls.
    fragment = client.get(
        f"/projects/{project.id}/evaluations/new",
        params={
            "submitted": "1",
            "test_version": version.id,
            "zero_shot": "true",
            "tuned": job.id,
            "judge_model": "",
            "base_model": "gemini-3.5-flash",
        },  # type: ignore[attr-defined]
        headers=htmx_headers("planner"),
    )
    assert "<html" not in fragment.text and 'id="new-evaluation-form"' in fragment.text
    facts = soup(fragment).select_one("#estimate").get_text(" ")
    assert "Judge calls 0" in " ".join(facts.split())
    form = {
        "submitted": "1",
        "name": "v2 against the original",
        "test_version": str(version.id),
        "base_model": "gemini-3.5-flash",
        "zero_shot": "true",
        "tuned": str(job.id),  # type: ignore[attr-defined]
        "judge_model": "gemini-3.5-flash",
    }
    response = client.post(f"/projects/{project.id}/evaluations", data=form)
    assert response.status_code == 303, response.text
    evaluation = session.scalars(select(Evaluation)).one()
    assert evaluation.name == "v2 against the original" and evaluation.status == "queued"
    assert response.headers["location"] == f"/projects/{project.id}/evaluations/{evaluation.id}"


def test_new_evaluation_form_rejects_bad_input_with_messages(
    client: TestClient, session: Session, team: tuple[Project, dict[Role, User]]
) -> None:
    from tests.evaluations.factories import eval_version

    project, users = team
    version = eval_version(session, project=project, actor=users[Role.MANAGER])
    login(client, users[Role.VIEWER])
    assert client.get(f"/projects/{project.id}/evaluations/new").status_code == 403
    login(client, users[Role.MANAGER])
    only_one = {"submitted": "1", "test_version": str(version.id), "zero_shot": "true"}
    response = client.post(f"/projects/{project.id}/evaluations", data=only_one)
    assert response.status_code == 422
    assert (
        "Choose at least two models to compare"
        in soup(response).select_one("#f-candidates-error").get_text()
    )
    bad_k = {**only_one, "few_shot": "true", "few_shot_k": "99"}
    response = client.post(f"/projects/{project.id}/evaluations", data=bad_k)
    assert (
        "Give a number of examples between 1 and 20."
        in soup(response).select_one("#f-few_shot_k-error").get_text()
    )
    judge_without_tuned = {
        **only_one,
        "few_shot": "true",
        "few_shot_k": "2",
        "judge_model": "gemini-3.5-flash",
    }
    response = client.post(f"/projects/{project.id}/evaluations", data=judge_without_tuned)
    assert response.status_code == 422
    assert (
        "Add a tuned model, or turn the judge off."
        in soup(response).select_one("#f-judge_model-error").get_text()
    )
    no_version = {**only_one, "test_version": "abc"}
    response = client.post(f"/projects/{project.id}/evaluations", data=no_version)
    assert response.status_code == 422
    assert session.scalars(select(Evaluation)).all() == []


def test_job_page_offers_evaluate_and_the_overview_step_is_real(
    client: TestClient, session: Session, team: tuple[Project, dict[Role, User]], built: Built
) -> None:
    project, users = team
    job = built.job
    assert job is not None
    login(client, users[Role.EXPERT])
    page = soup(client.get(f"/projects/{project.id}/tuning/{job.id}"))
    button = page.select_one("#evaluate-job")
    assert button["href"] == f"/projects/{project.id}/evaluations/new?job={job.id}"
    overview = soup(client.get(f"/projects/{project.id}"))
    step = overview.select("#next-steps li")[-1]
    assert step.select_one("a")["href"] == f"/projects/{project.id}/evaluations"
    assert "done" in step["class"]
    login(client, users[Role.VIEWER])
    assert (
        soup(client.get(f"/projects/{project.id}/tuning/{job.id}")).select_one("#evaluate-job")
        is None
    )


def test_a_real_run_ends_on_a_compare_screen_that_says_the_tuned_model_is_better(
    client: TestClient,
    session: Session,
    emulator: EmulatorServer,  # noqa: F811  (the fixture imported above)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The runner in this process, the emulator behind the real SDK: the screen reads what the
    run stored and says so in plain words."""
    from app.evaluations import service
    from app.evaluations.running import runner
    from app.genai import common
    from tests.evaluations import run_factories as rf

    emulator.use(monkeypatch)
    monkeypatch.setattr(common, "current_config", emulator.config)
    project, manager = rf.manager_project(session)
    # Three copies of every answer: the version's validation share never takes a topic away
    # from the training file, so every test question is in distribution.
    version = rf.faq_version(session, project=project, actor=manager, copies=3)
    job = rf.succeeded_job(session, project=project, version=version)
    the_spec = rf.spec(version, rf.zero_shot(), rf.tuned(job), judge_model="gemini-3.5-flash")
    evaluation = service.create_evaluation(session, project=project, actor=manager, spec=the_spec)
    session.commit()
    assert runner.run_evaluation(evaluation.id) == "succeeded"
    login(client, manager)
    html = soup(client.get(f"/projects/{project.id}/evaluations/{evaluation.id}"))
    verdict = html.select_one("#verdict .verdict-text").get_text()
    # Eight in-distribution questions (each paraphrases one training question): the simulated
    # tuned model answers every one from its training data and the screen says it is better.
    found = re.match(r"The tuned model is better on (\d+)% of your 8 test questions", verdict)
    assert found is not None, verdict
    assert int(found[1]) == 100
    assert "Overall it is better than the original model." in verdict
    # chrF per candidate in column order (zero-shot, tuned): the tuned model is far ahead.
    zero_shot, tuned = (
        float(cell.get_text()) for cell in html.select("tr[data-metric=chrf] td strong")
    )
    assert tuned > zero_shot + 30, (zero_shot, tuned)
    assert len(html.select("article.eval-item")) == len(rf.FAQ)


def test_cancel_and_resume_from_the_run_page(
    client: TestClient, session: Session, team: tuple[Project, dict[Role, User]]
) -> None:
    project, users = team
    running = running_evaluation(session, project=project, actor=users[Role.MANAGER])
    url = f"/projects/{project.id}/evaluations/{running.id}"
    login(client, users[Role.VIEWER])
    assert soup(client.get(url)).select_one("#cancel-evaluation") is None
    assert client.post(f"{url}/cancel").status_code == 403
    login(client, users[Role.EXPERT])
    assert soup(client.get(url)).select_one("#cancel-evaluation") is not None
    response = client.post(f"{url}/cancel")
    assert response.status_code == 303
    page = client.get(url)
    assert toasts(page) == ["Evaluation cancelled. The answers already given are kept."]
    assert soup(page).select_one("#eval-cancelled") is not None
    session.expire_all()
    assert session.get(Evaluation, running.id).status == "cancelled"  # type: ignore[union-attr]
    client.post(f"{url}/resume")
    session.expire_all()
    assert session.get(Evaluation, running.id).status == "queued"  # type: ignore[union-attr]
    again = client.post(f"{url}/resume")
    assert again.status_code == 409
    assert "Only a failed or cancelled evaluation can be resumed" in text_of(again)


def test_a_judge_that_failed_everywhere_is_not_called_no_judge(
    client: TestClient, session: Session, team: tuple[Project, dict[Role, User]]
) -> None:
    project, users = team
    built = finished_evaluation(session, project=project, actor=users[Role.MANAGER], count=4)
    evaluation = built.evaluation
    evaluation.summary = {
        **evaluation.summary,
        "judge": None,
        "judge_by_tag": {},
        "judge_failed": 4,
    }
    session.commit()
    login(client, users[Role.VIEWER])
    page = soup(client.get(_run_url(built)))
    header = page.select_one(".page-head").get_text(" ", strip=True)
    assert f"AI judge: {evaluation.judge_model}" in header
    card = page.select_one("#judge-card").get_text(" ", strip=True)
    assert "This run has no AI judge" not in card and "no AI judge" not in card
    assert "gave no verdict: it failed on every question it was asked (4)" in card
    # Candidates show how they were asked to think.
    assert page.select(".thinking-setting")


def test_a_run_on_a_retired_model_is_flagged(
    client: TestClient, session: Session, team: tuple[Project, dict[Role, User]]
) -> None:
    project, users = team
    built = finished_evaluation(session, project=project, actor=users[Role.MANAGER], count=4)
    built.baseline.base_model = "gemini-2.5-flash"
    session.commit()
    login(client, users[Role.VIEWER])
    flag = soup(client.get(_run_url(built))).select_one("#eval-retired").get_text(" ", strip=True)
    assert "Gemini 2.5 Flash, which Google retired" in flag
    assert "Re-tune on Gemini 3.5 Flash" in flag
