"""Fixtures shared by the evaluation screen tests: a project with one member per role, and a
finished evaluation built in the database from the real scoring functions."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.auth.models import User
from app.projects.models import Project
from app.projects.permissions import Role
from tests.evaluations.factories import Built, finished_evaluation
from tests.factories import project_with_roles


@pytest.fixture
def team(session: Session) -> tuple[Project, dict[Role, User]]:
    return project_with_roles(session)


@pytest.fixture
def built(session: Session, team: tuple[Project, dict[Role, User]]) -> Built:
    project, users = team
    return finished_evaluation(session, project=project, actor=users[Role.MANAGER])
