"""The golden set and the scorecard over time: a manager chooses the version, every tuned model
evaluated on it is listed in the order it was tuned with its headline figures, and a model that
got clearly worse than the one before is flagged as a regression."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.evaluations.models import GoldenSet
from app.projects.permissions import Role
from tests.evaluations.factories import eval_version, finished_evaluation
from tests.factories import project_with_roles
from tests.support import get_page, login, soup, text_of, toasts


def test_manager_sets_the_golden_set_and_the_scorecard_flags_a_regression(
    client: TestClient, session: Session, htmx: bool
) -> None:
    project, users = project_with_roles(session)
    manager = users[Role.MANAGER]
    version = eval_version(session, project=project, actor=manager)
    other = eval_version(session, project=project, actor=manager, dataset_name="Other")
    url = f"/projects/{project.id}/evaluations/scorecard"
    login(client, users[Role.VIEWER])
    empty = get_page(client, url, htmx)
    assert "No golden set yet" in text_of(empty)
    assert soup(empty).select_one("#use-golden") is None  # viewers cannot choose
    assert (
        client.post(
            f"/projects/{project.id}/evaluations/golden", data={"version_id": str(version.id)}
        ).status_code
        == 403
    )

    first = finished_evaluation(session, project=project, actor=manager, version=version)
    worse = finished_evaluation(
        session, project=project, actor=manager, version=version, worse=frozenset(range(0, 20, 2))
    )
    third = finished_evaluation(session, project=project, actor=manager, version=version)
    elsewhere = finished_evaluation(session, project=project, actor=manager, version=other)

    login(client, manager)
    response = client.post(
        f"/projects/{project.id}/evaluations/golden", data={"version_id": str(version.id)}
    )
    assert response.status_code == 303
    assert toasts(client.get(response.headers["location"])) == [
        f"Version {version.number} is now the golden set."
    ]
    stored = session.get(GoldenSet, project.id)
    assert stored is not None and stored.version_id == version.id

    page = soup(get_page(client, url, htmx))
    rows = page.select("#timeline tbody tr")
    assert [r["id"] for r in rows] == [f"point-{b.evaluation.id}" for b in (first, worse, third)]
    assert f"point-{elsewhere.evaluation.id}" not in {r["id"] for r in rows}
    assert "regression" not in rows[0]["class"]
    assert "regression" in rows[1]["class"]
    assert rows[1].select_one(".badge-error").get_text() == "regression"
    assert "regression" not in rows[2].get("class", [])
    better_cell = rows[1].select("td")[4].get_text(" ")
    assert better_cell.split()[0] == "45%" and "−30%" in better_cell
    chart = json.loads(page.select_one("#scorecard-chart-data").get_text())
    assert chart["labels"] == [b.tuned.label for b in (first, worse, third)]
    assert chart["series"]["better"] == [75.0, 45.0, 75.0]


def test_golden_set_needs_test_questions_and_a_version_of_this_project(
    client: TestClient, session: Session
) -> None:
    project, users = project_with_roles(session)
    other_project, other_users = project_with_roles(session)
    foreign = eval_version(session, project=other_project, actor=other_users[Role.MANAGER])
    login(client, users[Role.MANAGER])
    response = client.post(
        f"/projects/{project.id}/evaluations/golden", data={"version_id": str(foreign.id)}
    )
    assert toasts(client.get(response.headers["location"])) == [
        "Choose one of this project's dataset versions."
    ]
    assert session.get(GoldenSet, project.id) is None
