"""The tuning pages as full pages and HTMX fragments: the jobs list, the planner, a job's live
page (it polls while the job runs and stops at the end), the experiment log with sorting, CSV
and comparison, and what each role sees."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.versions.models import DatasetVersion
from app.db import utcnow
from app.projects.models import Project
from app.projects.permissions import Role
from app.tuning.models import JobEvent, JobState, MetricPoint, TuningJob
from tests.emulator_fixture import EmulatorServer
from tests.factories import create_project, create_user
from tests.support import get_page, htmx_headers, login, soup, text_of
from tests.tuning.factories import job_row, versioned_examples


@pytest.fixture
def setup(
    client: TestClient, session: Session, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> tuple[User, User, Project, DatasetVersion]:
    emulator.use(monkeypatch)
    manager, viewer = create_user(session, name="Mina"), create_user(session, name="Vic")
    project = create_project(session, members={manager: Role.MANAGER, viewer: Role.VIEWER})
    version, _examples = versioned_examples(session, project=project, actor=manager)
    login(client, manager)
    return manager, viewer, project, version


def finished_job(
    session: Session, project: Project, version: DatasetVersion, **values: object
) -> TuningJob:
    started = utcnow() - timedelta(minutes=30)
    job = job_row(
        session,
        project=project,
        version=version,
        state=JobState.SUCCEEDED,
        started_at=started,
        finished_at=started + timedelta(minutes=22),
        completed_steps=40,
        total_steps=40,
        completed_epochs=3,
        remote_name=f"projects/1/locations/us-central1/tuningJobs/{id(values)}",
        checkpoints=[
            {"checkpoint_id": "1", "epoch": 1, "step": 14, "endpoint": "e1"},
            {"checkpoint_id": "3", "epoch": 3, "step": 40, "endpoint": "e3"},
        ],
        **values,
    )
    for step in range(1, 41):
        session.add(
            MetricPoint(job_id=job.id, metric="train_loss", step=step, value=2.0 * 0.9**step + 0.2)
        )
    for step in range(4, 41, 4):
        session.add(
            MetricPoint(
                job_id=job.id, metric="validation_loss", step=step, value=1.6 * 0.85**step + 0.4
            )
        )
    session.commit()
    return job


def test_jobs_list_polls_only_while_something_runs(
    client: TestClient,
    session: Session,
    setup: tuple[User, User, Project, DatasetVersion],
    htmx: bool,
) -> None:
    _manager, _viewer, project, version = setup
    empty = get_page(client, f"/projects/{project.id}/tuning", htmx)
    assert "No tuning job yet" in text_of(empty)
    running = job_row(
        session,
        project=project,
        version=version,
        state=JobState.RUNNING,
        completed_steps=10,
        total_steps=40,
        display_name="Busy",
    )
    page = soup(get_page(client, f"/projects/{project.id}/tuning", htmx))
    section = page.select_one("#tuning-jobs")
    assert section["hx-trigger"] == "every 5s"
    assert page.select_one(f"#job-row-{running.id} .state-badge").get_text() == "Running"
    assert page.select_one(f"#job-row-{running.id} progress")["value"] == "10"
    session.get(TuningJob, running.id).state = JobState.SUCCEEDED  # type: ignore[union-attr]
    session.commit()
    fragment = client.get(f"/projects/{project.id}/tuning", headers=htmx_headers("tuning-jobs"))
    assert "<html" not in fragment.text and 'id="tuning-jobs"' in fragment.text
    assert not soup(fragment).select_one("#tuning-jobs").has_attr("hx-trigger")


def test_planner_shows_recommendation_knobs_and_re_renders_as_a_fragment(
    client: TestClient, setup: tuple[User, User, Project, DatasetVersion], htmx: bool
) -> None:
    _manager, _viewer, project, version = setup
    page = get_page(client, f"/projects/{project.id}/tuning/new?version={version.id}", htmx)
    html = soup(page)
    assert html.select_one("#f-epochs")["value"] == "5"
    assert html.select_one("#f-learning_rate_multiplier")["value"] == "2"
    assert html.select_one("#f-adapter_size option[selected]")["value"] == "4"
    why = html.select_one("#recommendation .why").get_text(" ")
    assert (
        "Google's guidance for such data: more epochs and a higher learning-rate multiplier" in why
    )
    knob_help = html.select_one("#knob-epochs .knob-help").get_text()
    assert knob_help.startswith("Epochs: how many times the model reads your examples.")
    assert html.select_one("#planner")["hx-trigger"] == "change"
    # A change re-renders only the planner, keeping the person's values for this version+model.
    changed = client.get(
        f"/projects/{project.id}/tuning/new",
        params={
            "version": version.id,
            "base_model": "gemini-3.5-flash",
            "epochs": "7",
            "learning_rate_multiplier": "1.5",
            "adapter_size": "8",
            "planned_for": f"{version.id}:gemini-3.5-flash",
        },
        headers=htmx_headers("planner"),
    )
    assert "<html" not in changed.text and 'id="new-job"' in changed.text
    assert soup(changed).select_one("#f-epochs")["value"] == "7"
    assert "× 7 epochs" in soup(changed).select_one("#estimate").get_text()
    # A new model starts again from its recommendation.
    other = client.get(
        f"/projects/{project.id}/tuning/new",
        params={
            "version": version.id,
            "base_model": "gemini-3.1-flash-lite",
            "epochs": "7",
            "planned_for": f"{version.id}:gemini-3.5-flash",
        },
        headers=htmx_headers("planner"),
    )
    assert soup(other).select_one("#f-epochs")["value"] == "5"


def test_job_page_polls_while_running_and_stops_at_the_end(
    client: TestClient,
    session: Session,
    setup: tuple[User, User, Project, DatasetVersion],
    htmx: bool,
) -> None:
    _manager, _viewer, project, version = setup
    job = job_row(
        session,
        project=project,
        version=version,
        state=JobState.RUNNING,
        completed_steps=12,
        total_steps=40,
        sub_state="TUNING_JOB_STATE_TUNING",
        remote_name="projects/1/locations/us-central1/tuningJobs/7",
    )
    url = f"/projects/{project.id}/tuning/{job.id}"
    page = soup(get_page(client, url, htmx))
    live = page.select_one("#job-live")
    assert live["hx-trigger"] == "every 3s" and live["hx-get"] == url
    assert (
        page.select_one("#status-card .status-line").get_text(" ", strip=True) == "Running — tuning"
    )
    assert page.select_one("progress.job-progress")["value"] == "12"
    assert "30% · step 12 of 40" in page.select_one(".progress-text").get_text()
    assert page.select_one("#cancel-button") is not None

    session.get(TuningJob, job.id).state = JobState.SUCCEEDED  # type: ignore[union-attr]
    session.commit()
    fragment = client.get(url, headers=htmx_headers("job-live"))
    assert "<html" not in fragment.text
    assert not soup(fragment).select_one("#job-live").has_attr("hx-trigger")
    assert soup(fragment).select_one("#cancel-button") is None


def test_finished_job_shows_curves_diagnosis_and_the_run_log(
    client: TestClient, session: Session, setup: tuple[User, User, Project, DatasetVersion]
) -> None:
    _manager, _viewer, project, version = setup
    job = finished_job(session, project, version)
    session.add(
        JobEvent(job_id=job.id, kind="state_changed", params={"from": "running", "to": "succeeded"})
    )
    session.commit()
    page = soup(client.get(f"/projects/{project.id}/tuning/{job.id}"))
    assert page.select_one("#chart-loss")["data-series"] == "train_loss validation_loss"
    data = page.select_one("#job-chart-data").get_text()
    assert '"train_loss": [[1, ' in data and '"validation_loss": [[4, ' in data
    assert page.select_one("#diagnosis")["data-verdict"] == "healthy"
    assert (
        "checkpoint 3 (epoch 3, step 40)" in page.select_one("#recommended-checkpoint").get_text()
    )
    assert page.select_one("#checkpoints tr.recommended td").get_text(strip=True).startswith("3")
    assert page.select_one("#run-log li span").get_text() == "Status: Running → Succeeded."
    assert page.select_one("head script[src='/static/vendor/chartjs/chart.umd.min.js']") is not None


def test_retirement_banner_offers_to_retune_on_the_successor(
    client: TestClient, session: Session, setup: tuple[User, User, Project, DatasetVersion]
) -> None:
    _manager, _viewer, project, version = setup
    job = finished_job(session, project, version, base_model="gemini-2.0-flash-lite-001")
    banner = soup(client.get(f"/projects/{project.id}/tuning/{job.id}")).select_one(
        "#retune-banner"
    )
    assert "Gemini 2.0 Flash-Lite was retired on Feb 25, 2026." in banner.get_text()
    link = banner.select_one("a")
    # The same version and comparable settings (the job's), kept by planned_for.
    assert link["href"] == (
        f"/projects/{project.id}/tuning/new?version={version.id}"
        "&base_model=gemini-3.1-flash-lite&epochs=3&learning_rate_multiplier=1&adapter_size=4"
        f"&planned_for={version.id}%3Agemini-3.1-flash-lite"
    )
    assert link.get_text() == "Re-tune on Gemini 3.1 Flash-Lite"
    form = soup(client.get(link["href"]))
    assert form.select_one("#f-base_model option[selected]")["value"] == "gemini-3.1-flash-lite"
    assert form.select_one("#f-version option[selected]")["value"] == str(version.id)
    assert form.select_one("#f-epochs")["value"] == "3"


def test_experiment_log_sorts_exports_and_compares(
    client: TestClient,
    session: Session,
    setup: tuple[User, User, Project, DatasetVersion],
    htmx: bool,
) -> None:
    _manager, _viewer, project, version = setup
    cheap = finished_job(
        session,
        project,
        version,
        display_name="Cheap run",
        estimated_cost=0.05,
        hyperparameters={"epochs": 2, "learning_rate_multiplier": 1.0, "adapter_size": 4},
        final_train_loss=0.4,
    )
    rich = finished_job(
        session,
        project,
        version,
        display_name="Rich run",
        estimated_cost=0.5,
        hyperparameters={"epochs": 8, "learning_rate_multiplier": None, "adapter_size": 8},
        final_train_loss=0.2,
    )
    base = f"/projects/{project.id}/tuning/experiments"
    by_cost = soup(get_page(client, f"{base}?sort=cost&dir=asc", htmx))
    names = [a.get_text() for a in by_cost.select("#experiments tbody td:nth-of-type(2) a")]
    assert names == ["Cheap run", "Rich run"]
    assert by_cost.select_one("th a.sort.active")["aria-sort"] == "ascending"
    by_epochs = soup(client.get(f"{base}?sort=epochs&dir=desc"))
    assert [a.get_text() for a in by_epochs.select("#experiments tbody td:nth-of-type(2) a")] == [
        "Rich run",
        "Cheap run",
    ]
    row = by_epochs.select_one(f"#experiment-{rich.id}").get_text(" ")
    assert "Vertex chooses" in row and "—" in row  # no evaluation score yet

    exported = client.get(f"{base}?download=csv")
    assert exported.headers["content-type"].startswith("text/csv")
    records = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert records[0][:4] == ["Job", "Name", "Dataset version", "Base model"]
    assert [r[1] for r in records[1:]] == ["Cheap run", "Rich run"]
    assert records[2][5] == "auto" and records[2][4] == "8" and records[2][10] == "no"

    compared = soup(
        get_page(
            client, f"/projects/{project.id}/tuning/compare?job={cheap.id}&job={rich.id}", htmx
        )
    )
    rows = {
        tr.select_one("th").get_text(): [td.get_text(" ", strip=True) for td in tr.select("td")]
        for tr in compared.select("#comparison tbody tr")
    }
    assert rows["Epochs"] == ["2", "8"]
    assert rows["Learning-rate multiplier"] == ["1.0", "Vertex chooses"]
    assert "differs" in compared.select("#comparison tbody tr")[2].select_one("td")["class"]
    assert compared.select_one("#compare-loss")["data-sources"] == "chart-a chart-b"
    one = soup(client.get(f"/projects/{project.id}/tuning/compare?job={cheap.id}"))
    assert one.select_one("#compare-hint") is not None and one.select_one("#comparison") is None
    assert one.select_one("#f-job-0 option[selected]")["value"] == str(cheap.id)


def test_viewers_follow_jobs_but_cannot_launch_or_cancel(
    client: TestClient, session: Session, setup: tuple[User, User, Project, DatasetVersion]
) -> None:
    _manager, viewer, project, version = setup
    job = job_row(session, project=project, version=version, state=JobState.RUNNING)
    login(client, viewer)
    listing = soup(client.get(f"/projects/{project.id}/tuning"))
    assert listing.select_one(".subnav a[href$='/tuning/new']") is None
    assert listing.select_one(".page-head [role='button']") is None
    page = soup(client.get(f"/projects/{project.id}/tuning/{job.id}"))
    assert page.select_one("#cancel-button") is None
    assert client.post(f"/projects/{project.id}/tuning/{job.id}/cancel").status_code == 403
    assert client.get(f"/projects/{project.id}/tuning/new").status_code == 403


def test_project_overview_ticks_the_tuning_step(
    client: TestClient, session: Session, setup: tuple[User, User, Project, DatasetVersion]
) -> None:
    _manager, _viewer, project, version = setup
    step = soup(client.get(f"/projects/{project.id}")).select("#next-steps li")[4]
    assert (
        "done" not in step.get("class", [])
        and step.select_one("a")["href"] == f"/projects/{project.id}/tuning"
    )
    job_row(session, project=project, version=version)
    step = soup(client.get(f"/projects/{project.id}")).select("#next-steps li")[4]
    assert "done" in step["class"]


def test_a_succeeded_job_without_a_step_count_shows_a_full_bar(
    client: TestClient, session: Session, setup: tuple[User, User, Project, DatasetVersion]
) -> None:
    _manager, _viewer, project, version = setup
    job = finished_job(session, project, version, base_model="gemini-3.5-flash")
    job.completed_steps, job.total_steps = None, 60  # Vertex never reported the steps done
    session.commit()
    status = soup(client.get(f"/projects/{project.id}/tuning/{job.id}")).select_one("#status-card")
    bar = status.select_one("progress.job-progress")
    assert bar["value"] == bar["max"] == "1"  # full, not "100 %" over an empty bar
    text = status.select_one(".progress-text").get_text(" ", strip=True)
    assert "step 0 of 60" not in text
    assert "all 60 steps (Vertex AI did not report the step count)" in text


def test_the_job_page_says_why_no_curve_is_shown(
    client: TestClient, session: Session, setup: tuple[User, User, Project, DatasetVersion]
) -> None:
    _manager, _viewer, project, version = setup
    job = job_row(
        session,
        project=project,
        version=version,
        state=JobState.SUCCEEDED,
        metrics_note="the job's experiment has no TensorBoard",
    )
    session.commit()
    note = soup(client.get(f"/projects/{project.id}/tuning/{job.id}")).select_one("#no-curves")
    assert "The training curves cannot be read from Vertex AI" in note.get_text()
    assert "the job's experiment has no TensorBoard" in note.get_text()


def test_jobs_on_retired_models_are_flagged_everywhere(
    client: TestClient, session: Session, setup: tuple[User, User, Project, DatasetVersion]
) -> None:
    _manager, _viewer, project, version = setup
    old = finished_job(session, project, version, base_model="gemini-2.5-flash")
    fresh = finished_job(session, project, version, base_model="gemini-3.5-flash")
    page = soup(client.get(f"/projects/{project.id}/tuning/{old.id}"))
    banner = page.select_one("#retune-banner")
    assert "Gemini 2.5 Flash was retired on Oct 20, 2026." in banner.get_text()
    assert banner.select_one("#retune-link").get_text() == "Re-tune on Gemini 3.5 Flash"
    assert (
        soup(client.get(f"/projects/{project.id}/tuning/{fresh.id}")).select_one("#retune-banner")
        is None
    )
    log = soup(client.get(f"/projects/{project.id}/tuning/experiments"))
    flagged = log.select_one(f"#experiment-{old.id}")
    assert "retired" in flagged.get_text() and flagged.select_one(".retune-link") is not None
    assert log.select_one(f"#experiment-{fresh.id} .retune-link") is None
    dashboard = soup(client.get("/dashboard")).select_one("#retired-models")
    assert old.display_name in dashboard.get_text()
    assert fresh.display_name not in dashboard.get_text()
    link = dashboard.select_one(".retune-link")
    assert "base_model=gemini-3.5-flash" in link["href"] and f"version={version.id}" in link["href"]
