"""Factories for tuning tests: approved examples frozen into a dataset version, and job rows."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.models import Example
from app.datasets.versions.models import DatasetVersion
from app.datasets.versions.service import VersionRequest, create_version
from app.db import utcnow
from app.projects.models import Project
from app.tuning.models import JobState, TuningJob
from tests.factories import create_dataset, create_example, distinct_text

_counter = itertools.count(1)
TOPICS = [
    (
        "Where is my order?",
        "Your order ships within three business days; track it from your account.",
    ),
    ("How do I reset my password?", "Use the reset link on the sign-in page and choose a new one."),
    ("Can I return a gift?", "Yes, within 30 days with the gift receipt; we refund a gift card."),
    ("Do you ship abroad?", "We ship to 40 countries; duties are shown before you pay."),
    ("How do I change my address?", "Edit it under Account → Addresses before the order ships."),
]


def versioned_examples(
    session: Session,
    *,
    project: Project,
    actor: User,
    count: int = 120,
    test: int = 5,
    long_text: str | None = None,
    long_count: int = 0,
    dataset_name: str = "Support FAQ",
) -> tuple[DatasetVersion, list[Example]]:
    """``count`` approved examples (plus ``test`` golden test examples) frozen into a version."""
    dataset = create_dataset(session, project=project, name=dataset_name)
    examples = []
    for index in range(count):
        question, answer = TOPICS[index % len(TOPICS)]
        n = next(_counter)
        if long_text is not None and index < long_count:
            answer = f"{answer} {long_text}"
        examples.append(
            create_example(
                session,
                dataset=dataset,
                # The topic question plus words of its own: same subject, not a near-duplicate.
                question=f"{question} {distinct_text(n, 'question')}",
                answer=f"{answer} Reference {n}.",
                tag=f"topic-{index % len(TOPICS)}",
            )
        )
    for _index in range(test):
        n = next(_counter)
        examples.append(
            create_example(
                session,
                dataset=dataset,
                question=f"Golden question {n}?",
                answer=f"Golden answer {n}.",
                split="test",
            )
        )
    version = create_version(
        session, actor=actor, dataset=dataset, request=VersionRequest(note="test")
    )
    session.commit()
    return version, examples


def job_row(
    session: Session,
    *,
    project: Project,
    version: DatasetVersion,
    state: str = JobState.RUNNING,
    **values: Any,
) -> TuningJob:
    """A job row as the service would leave it (for pages and polling tests)."""
    job = TuningJob(
        project_id=project.id,
        dataset_version_id=version.id,
        base_model=values.pop("base_model", "gemini-3.5-flash"),
        display_name=values.pop("display_name", f"Job {next(_counter)}"),
        hyperparameters=values.pop(
            "hyperparameters", {"epochs": 3, "learning_rate_multiplier": 1.0, "adapter_size": 4}
        ),
        recommendation=values.pop("recommendation", {}),
        cost_estimate=values.pop(
            "cost_estimate",
            {"billable_tokens": 30000, "cost": 0.15, "currency": "USD", "price_per_million": 5.0},
        ),
        estimated_cost=values.pop("estimated_cost", 0.15),
        state=state,
        remote_label=uuid.uuid4().hex,
        queued_at=utcnow(),
        updated_at=utcnow(),
        **values,
    )
    session.add(job)
    session.commit()
    return job
