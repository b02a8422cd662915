"""The managers' dashboard: figures across the projects one manages, who sees it, live updates."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.datasets.models import ExampleStatus
from app.db import utcnow
from app.projects.permissions import Role
from app.tuning.models import JobState, TuningBudget
from tests.factories import create_dataset, create_example, create_project, create_user
from tests.support import get_page, htmx_headers, login, soup
from tests.tuning.factories import job_row, versioned_examples


def test_figures_across_managed_projects(client: TestClient, session: Session, htmx: bool) -> None:
    manager = create_user(session, name="Mina")
    other = create_user(session)
    support = create_project(session, name="Support replies", members={manager: Role.MANAGER})
    sales = create_project(session, name="Sales emails", members={manager: Role.MANAGER})
    hidden = create_project(session, name="Someone else's", members={other: Role.MANAGER})
    version, _ = versioned_examples(session, project=support, actor=manager, count=20, test=0)
    sales_version, _ = versioned_examples(session, project=sales, actor=manager, count=20, test=0)
    hidden_version, _ = versioned_examples(session, project=hidden, actor=other, count=20, test=0)
    job_row(session, project=support, version=version, state=JobState.RUNNING, estimated_cost=1.5)
    job_row(session, project=support, version=version, state=JobState.QUEUED, estimated_cost=0.5)
    job_row(
        session,
        project=support,
        version=version,
        state=JobState.AWAITING_APPROVAL,
        estimated_cost=9.0,
        display_name="Big one",
    )
    failed = job_row(
        session,
        project=sales,
        version=sales_version,
        state=JobState.FAILED,
        estimated_cost=2.0,
        remote_name="projects/1/locations/us-central1/tuningJobs/9",
        finished_at=utcnow(),
        error={"source": "vertex", "code": "quota", "params": {}, "raw": "quota"},
    )
    job_row(
        session,
        project=hidden,
        version=hidden_version,
        state=JobState.RUNNING,
        estimated_cost=100.0,
    )
    session.add(TuningBudget(project_id=support.id, monthly_budget=10.0))
    backlog = create_dataset(session, project=sales, name="Backlog")
    for days in (3, 1):
        example = create_example(session, dataset=backlog, status=ExampleStatus.PENDING)
        example.submitted_at = utcnow() - timedelta(days=days)
    session.commit()

    login(client, manager)
    page = soup(get_page(client, "/dashboard", htmx))
    stat = {
        a["id"]: a.select_one(".stat-value").get_text() for a in page.select(".dash-stats article")
    }
    assert stat == {
        "stat-running": "1",
        "stat-queued": "1",
        "stat-finished": "1",
        "stat-spend": "$4.00",
        "stat-backlog": "2",
    }
    assert "1 awaiting approval" in page.select_one("#stat-queued").get_text()
    rows = {
        tr["id"]: [td.get_text(" ", strip=True) for td in tr.select("td")]
        for tr in page.select("#dashboard-projects tbody tr")
    }
    assert set(rows) == {f"dash-project-{support.id}", f"dash-project-{sales.id}"}
    assert rows[f"dash-project-{support.id}"][4] == "$2.00 / $10.00"
    assert rows[f"dash-project-{sales.id}"][5] == "2"
    failure = page.select_one("#recent-failures li").get_text(" ")
    assert failed.display_name in failure and "no tuning quota left" in failure
    assert "Big one" in page.select_one("#approvals").get_text()
    assert page.select_one("#dashboard-live")["hx-trigger"] == "every 15s"

    fragment = client.get("/dashboard", headers=htmx_headers("dashboard-live"))
    assert "<html" not in fragment.text and 'id="dashboard-live"' in fragment.text


def test_only_managers_and_admins_see_the_dashboard(client: TestClient, session: Session) -> None:
    manager, reviewer, admin = (
        create_user(session),
        create_user(session),
        create_user(session, is_admin=True),
    )
    create_project(session, members={manager: Role.MANAGER, reviewer: Role.REVIEWER})
    login(client, reviewer)
    assert soup(client.get("/")).select_one("#topbar a[href='/dashboard']") is None
    assert client.get("/dashboard").status_code == 403
    for user in (manager, admin):
        login(client, user)
        assert (
            soup(client.get("/")).select_one("#topbar a[href='/dashboard']").get_text()
            == "Dashboard"
        )
        assert client.get("/dashboard").status_code == 200
