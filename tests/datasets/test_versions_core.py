"""Freezing approved examples into versions: splits, files, immutability, the protected test set."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy.orm import Session

from app.datasets.models import ExampleStatus
from app.datasets.versions import service
from app.datasets.versions.splits import SplitCandidate, SplitRule, assign_splits, pilot_subset
from app.errors import Conflict
from tests.factories import create_dataset, create_project, create_user
from tests.factories import create_example as _create_example
from tests.review.factories import distinct_text

_texts = iter(range(1, 10**9))


def create_example(session: Session, **kwargs: object):  # type: ignore[no-untyped-def]
    """The shared factory with texts that are not near duplicates of each other (its own are,
    and overlaps between splits now need an explicit acknowledgement)."""
    n = next(_texts)
    kwargs.setdefault("question", "Q " + distinct_text(n))
    kwargs.setdefault("answer", "A " + distinct_text(n + 500_000))
    return _create_example(session, **kwargs)  # type: ignore[arg-type]


class TestAssignSplits:
    def test_ninety_ten_seeded_and_stable(self) -> None:
        candidates = [SplitCandidate(i, None, None) for i in range(1, 201)]
        first = assign_splits(candidates, SplitRule(seed=7))
        again = assign_splits(list(reversed(candidates)), SplitRule(seed=7))
        other = assign_splits(candidates, SplitRule(seed=8))
        assert first == again
        assert Counter(first.values()) == {"train": 180, "validation": 20}
        assert first != other

    def test_explicit_splits_are_kept_and_test_never_moves(self) -> None:
        candidates = [SplitCandidate(1, "test", None), SplitCandidate(2, "validation", None)]
        candidates += [SplitCandidate(i, None, None) for i in range(3, 50)]
        result = assign_splits(candidates, SplitRule(validation_ratio=0.5))
        assert result[1] == "test" and result[2] == "validation"
        assert list(result.values()).count("test") == 1

    def test_validation_is_capped(self) -> None:
        candidates = [SplitCandidate(i, None, None) for i in range(1, 1001)]
        result = assign_splits(candidates, SplitRule(validation_ratio=0.5, validation_cap=30))
        assert Counter(result.values())["validation"] == 30

    def test_stratified_by_tag(self) -> None:
        candidates = [
            SplitCandidate(i, None, "billing" if i % 4 == 0 else "shipping") for i in range(1, 201)
        ]
        result = assign_splits(candidates, SplitRule())
        validation_tags = Counter(c.tag for c in candidates if result[c.example_id] == "validation")
        assert validation_tags == {"shipping": 15, "billing": 5}

    def test_pilot_subset_is_proportional_and_excludes_test(self) -> None:
        candidates = [
            SplitCandidate(i, "test" if i <= 10 else None, "a" if i % 3 else "b")
            for i in range(1, 301)
        ]
        pilot = pilot_subset(candidates, 100, seed=1)
        assert len(pilot) == 100
        assert all(c.split != "test" for c in pilot)
        assert pilot == pilot_subset(candidates, 100, seed=1)


class TestCreateVersion:
    def test_freezes_only_approved_examples_into_files(self, session: Session) -> None:
        user = create_user(session)
        dataset = create_dataset(session, project=create_project(session))
        approved = [create_example(session, dataset=dataset) for _ in range(30)]
        create_example(session, dataset=dataset, status=ExampleStatus.PENDING)
        create_example(session, dataset=dataset, status=ExampleStatus.REJECTED)
        golden = create_example(session, dataset=dataset, split="test", question="Golden?")
        version = service.create_version(
            session, actor=user, dataset=dataset, request=service.VersionRequest(note="first")
        )
        session.commit()
        assert version.number == 1
        assert version.counts == {"train": 27, "validation": 3, "test": 1, "total": 31}
        train_lines = service.file_path(version, "train").read_text().splitlines()
        assert len(train_lines) == 27
        first = json.loads(train_lines[0])
        assert [c["role"] for c in first["contents"]] == ["user", "model"]
        frozen_ids = {f.example_id for f in service.frozen_examples(session, version_id=version.id)}
        assert frozen_ids == {e.id for e in approved} | {golden.id}

    def test_a_test_example_never_reaches_a_training_file(self, session: Session) -> None:
        user = create_user(session)
        dataset = create_dataset(session, project=create_project(session))
        for _ in range(20):
            create_example(session, dataset=dataset)
        golden = create_example(session, dataset=dataset, split="test", question="GOLDEN-Q")
        for request in (service.VersionRequest(), service.VersionRequest(pilot_size=5)):
            version = service.create_version(session, actor=user, dataset=dataset, request=request)
            for path in service.training_files(version).values():
                assert "GOLDEN-Q" not in path.read_text()
            test_rows = service.frozen_examples(session, version_id=version.id, split="test")
            assert [r.example_id for r in test_rows] == [golden.id]

    def test_later_edits_never_change_a_version(self, session: Session) -> None:
        user = create_user(session)
        dataset = create_dataset(session, project=create_project(session))
        example = create_example(session, dataset=dataset, answer="Original answer.")
        for _ in range(9):
            create_example(session, dataset=dataset)
        version = service.create_version(
            session, actor=user, dataset=dataset, request=service.VersionRequest()
        )
        session.commit()
        before = service.file_path(version, "train").read_bytes()
        example.turns = [{"role": "user", "text": "Q"}, {"role": "model", "text": "Edited."}]
        session.commit()
        frozen = {f.example_id: f for f in service.frozen_examples(session, version_id=version.id)}
        assert frozen[example.id].content["turns"][1]["text"] == "Original answer."
        assert service.file_path(version, "train").read_bytes() == before

    def test_nothing_approved_is_explained(self, session: Session) -> None:
        dataset = create_dataset(session, project=create_project(session))
        create_example(session, dataset=dataset, status=ExampleStatus.PENDING)
        with pytest.raises(Conflict, match="no approved training examples"):
            service.create_version(
                session,
                actor=create_user(session),
                dataset=dataset,
                request=service.VersionRequest(),
            )
