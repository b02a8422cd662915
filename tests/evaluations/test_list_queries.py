"""The evaluations list asks the database a fixed number of times, whatever the number of runs on
the page (it used to ask three times per run): the JSON list and the page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from app.auth.models import User
from app.auth.service import create_api_token
from app.projects.models import Project
from app.projects.permissions import Role
from tests.evaluations.factories import eval_version, finished_evaluation, vote
from tests.support import login


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _runs(session: Session, project: Project, manager: User, reviewer: User, count: int) -> None:
    version = eval_version(session, project=project, actor=manager, count=3)
    for _ in range(count):
        built = finished_evaluation(session, project=project, actor=manager, version=version)
        vote(session, built=built, item=built.items[0], voter=reviewer, outcome="tuned")
    session.commit()


def _statements(client: TestClient, db: Engine, url: str, headers: dict[str, str]) -> int:
    with counted(db) as statements:
        response = client.get(url, headers=headers)
    assert response.status_code == 200
    return len(statements)


def test_the_json_list_and_the_page_ask_the_same_whatever_the_number_of_runs(
    client: TestClient, session: Session, db: Engine, team: tuple[Project, dict[Role, User]]
) -> None:
    project, users = team
    manager, reviewer = users[Role.MANAGER], users[Role.REVIEWER]
    _token, plain = create_api_token(session, user=manager, name="ci")
    session.commit()
    api = {"Authorization": f"Bearer {plain}"}
    json_url = f"/api/v1/projects/{project.id}/evaluations?limit=50"
    page_url = f"/projects/{project.id}/evaluations"
    login(client, manager)

    _runs(session, project, manager, reviewer, 1)
    client.get(json_url, headers=api)  # first uses are recorded once (the token, the visit)
    client.get(page_url)
    json_one = _statements(client, db, json_url, api)
    page_one = _statements(client, db, page_url, {})
    _runs(session, project, manager, reviewer, 7)
    listed = client.get(json_url, headers=api).json()
    assert len(listed) == 8 and all(len(run["candidates"]) == 2 for run in listed)
    assert all(run["verdict"] for run in listed)
    assert _statements(client, db, json_url, api) == json_one
    assert _statements(client, db, page_url, {}) == page_one
