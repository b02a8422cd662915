"""Factories for review and version tests: a team, pending examples, and texts that are really
different from each other (the shared factory's examples are near duplicates of one another)."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.models import Dataset, Example, ExampleStatus
from app.db import utcnow
from app.projects.models import Project
from app.projects.permissions import Role
from app.review.models import ReviewSettings
from tests.factories import create_dataset, create_example, create_project, create_user

_VOCABULARY = """
invoice refund parcel courier warranty voucher password account subscription receipt delivery
address bank transfer discount coupon battery charger screen keyboard monitor printer ink
cartridge kitchen blender kettle toaster jacket shoes umbrella backpack passport ticket seat
luggage hotel breakfast parking garden fence ladder paint brush window curtain pillow blanket
mattress lamp bulb cable router modem signal antenna
"""
_WORDS = _VOCABULARY.split()
_counter = itertools.count(1)


def distinct_text(seed: int, words: int = 9) -> str:
    rng = random.Random(seed * 7919 + 17)
    return " ".join(rng.choice(_WORDS) for _ in range(words)) + f" ({seed})"


@dataclass
class Team:
    project: Project
    dataset: Dataset
    manager: User
    reviewer: User
    second_reviewer: User
    expert: User
    viewer: User


def team(session: Session, *, approvals_required: int = 1, auto_assign: bool = True) -> Team:
    n = next(_counter)
    manager = create_user(session, name=f"Mika Manager {n}")
    reviewer = create_user(session, name=f"Rei Reviewer {n}")
    second = create_user(session, name=f"Ren Reviewer {n}")
    expert = create_user(session, name=f"Emi Expert {n}")
    viewer = create_user(session, name=f"Vic Viewer {n}")
    project = create_project(
        session,
        members={
            manager: Role.MANAGER,
            reviewer: Role.REVIEWER,
            second: Role.REVIEWER,
            expert: Role.EXPERT,
            viewer: Role.VIEWER,
        },
    )
    session.add(
        ReviewSettings(
            project_id=project.id, approvals_required=approvals_required, auto_assign=auto_assign
        )
    )
    session.commit()
    dataset = create_dataset(session, project=project)
    return Team(project, dataset, manager, reviewer, second, expert, viewer)


def pending(
    session: Session,
    team: Team,
    *,
    author: User | None = None,
    question: str | None = None,
    answer: str | None = None,
    split: str | None = None,
    tag: str | None = None,
    status: str = ExampleStatus.PENDING,
) -> Example:
    """A pending example by the expert (unless told otherwise), with distinct text."""
    n = next(_counter)
    example = create_example(
        session,
        dataset=team.dataset,
        question=question if question is not None else "Q " + distinct_text(n),
        answer=answer if answer is not None else "A " + distinct_text(n + 100_000),
        status=status,
        split=split,
        tag=tag,
        author=author or team.expert,
    )
    example.submitted_at = utcnow()
    session.commit()
    return example


def approved_set(session: Session, team: Team, count: int, **kwargs: object) -> list[Example]:
    return [
        pending(session, team, status=ExampleStatus.APPROVED, **kwargs)  # type: ignore[arg-type]
        for _ in range(count)
    ]


__all__ = ["Team", "approved_set", "create_project", "distinct_text", "pending", "team"]
