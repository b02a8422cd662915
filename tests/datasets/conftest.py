"""Fixtures of the intake tests (the browser journey is tests/browser/test_intake_journey.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.models import Dataset
from app.projects.models import Project
from app.projects.permissions import Role
from tests.factories import create_dataset, create_project, create_user


@dataclass
class Team:
    project: Project
    manager: User
    expert: User
    viewer: User
    dataset: Dataset


@pytest.fixture
def team(session: Session) -> Team:
    manager = create_user(session, name="Mana Ito")
    expert = create_user(session, name="Ken Sato")
    viewer = create_user(session, name="Yui Mori")
    project = create_project(
        session,
        name="Support replies",
        members={manager: Role.MANAGER, expert: Role.EXPERT, viewer: Role.VIEWER},
    )
    return Team(project, manager, expert, viewer, create_dataset(session, project=project))
