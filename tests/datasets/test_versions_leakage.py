"""Overlaps between training and validation/test are listed before a version exists, block it
until accepted (exactly the list that was shown), and the acceptance is recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import AuditEvent
from app.datasets.models import ExampleStatus
from app.datasets.versions import service
from app.errors import Conflict
from tests.review.factories import approved_set, pending, team


def _approved(session: Session, t, question: str, answer: str, split: str | None = None):  # type: ignore[no-untyped-def]
    return pending(
        session, t, question=question, answer=answer, split=split, status=ExampleStatus.APPROVED
    )


def _report(session: Session, t):  # type: ignore[no-untyped-def]
    plan = service.plan_version(session, dataset=t.dataset, request=service.VersionRequest())
    return service.check_leakage(session, plan=plan)


class TestLeakage:
    def test_exact_near_and_same_question_overlaps_are_listed(self, session: Session) -> None:
        t = team(session)
        approved_set(session, t, 6)
        train_a = _approved(
            session, t, "Is the store open on holidays?", "Yes, 10:00-18:00.", "train"
        )
        test_a = _approved(
            session, t, "Is the store open on holidays?", "Yes, 10:00-18:00.", "test"
        )
        train_b = _approved(
            session,
            t,
            "How do I change my delivery address after ordering?",
            "Open your order history and choose Change address.",
            "train",
        )
        val_b = _approved(
            session,
            t,
            "How do I change my delivery adress after ordering?",
            "Open your order history and choose Change address!",
            "validation",
        )
        train_c = _approved(session, t, "Can I pay by invoice?", "Only companies can.", "train")
        test_c = _approved(session, t, "Can I pay by invoice?", "No, card payments only.", "test")
        report = _report(session, t)
        found = {(p.train_id, p.other_id, p.kind) for p in report.pairs}
        assert (train_a.id, test_a.id, "exact") in found
        assert (train_b.id, val_b.id, "near") in found
        assert (train_c.id, test_c.id, "same_input") in found
        assert report.total == len(report.pairs) == 3
        assert all(0.8 <= p.similarity <= 1 for p in report.pairs)

    def test_a_version_with_overlaps_needs_an_acknowledgement(self, session: Session) -> None:
        t = team(session)
        approved_set(session, t, 8)
        _approved(session, t, "Do you gift-wrap?", "Yes, for 200 yen.", "train")
        _approved(session, t, "Do you gift-wrap?", "Yes, for 200 yen.", "test")
        with pytest.raises(service.LeakageFound) as blocked:
            service.create_version(
                session, actor=t.manager, dataset=t.dataset, request=service.VersionRequest()
            )
        assert "1 training examples overlap" in blocked.value.message
        session.rollback()
        fingerprint = _report(session, t).fingerprint
        version = service.create_version(
            session,
            actor=t.manager,
            dataset=t.dataset,
            request=service.VersionRequest(),
            acknowledge_leakage=True,
            seen_leakage=fingerprint,
        )
        session.commit()
        assert version.leakage["total"] == 1
        assert version.leakage["acknowledged_by"] == t.manager.id
        assert version.leakage["pairs"][0]["kind"] == "exact"
        audit = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "dataset_version.acknowledge_leakage")
        )
        assert audit is not None and audit.object_id == str(version.id)

    def test_an_acknowledgement_covers_only_the_list_that_was_seen(self, session: Session) -> None:
        t = team(session)
        approved_set(session, t, 8)
        _approved(session, t, "Do you gift-wrap?", "Yes, for 200 yen.", "train")
        _approved(session, t, "Do you gift-wrap?", "Yes, for 200 yen.", "test")
        seen = _report(session, t).fingerprint
        _approved(session, t, "Where is the Osaka store?", "Umeda, 3rd floor.", "train")
        _approved(session, t, "Where is the Osaka store?", "Umeda, 3rd floor.", "validation")
        with pytest.raises(service.LeakageFound, match="changed since you checked"):
            service.create_version(
                session,
                actor=t.manager,
                dataset=t.dataset,
                request=service.VersionRequest(),
                acknowledge_leakage=True,
                seen_leakage=seen,
            )

    def test_a_former_test_example_moved_to_training_is_listed(self, session: Session) -> None:
        t = team(session)
        approved_set(session, t, 8)
        golden = _approved(session, t, "Golden: can I cancel?", "Within 24 hours.", "test")
        service.create_version(
            session, actor=t.manager, dataset=t.dataset, request=service.VersionRequest()
        )
        session.commit()
        golden.split = "train"
        session.commit()
        report = _report(session, t)
        assert [(p.train_id, p.kind) for p in report.pairs] == [(golden.id, "was_test")]

    def test_clean_data_has_no_overlaps(self, session: Session) -> None:
        t = team(session)
        approved_set(session, t, 30)
        approved_set(session, t, 3, split="test")
        assert _report(session, t).pairs == []


class TestTheTestSplitNeverTrains:
    @pytest.mark.parametrize("pilot_size", [None, 5, 1000])
    def test_versions_and_pilots_keep_test_examples_out_of_training_files(
        self, session: Session, pilot_size: int | None
    ) -> None:
        t = team(session)
        approved_set(session, t, 20)
        goldens = [
            _approved(
                session, t, f"GOLDEN question {i} about returns", f"GOLDEN answer {i}", "test"
            )
            for i in range(3)
        ]
        version = service.create_version(
            session,
            actor=t.manager,
            dataset=t.dataset,
            request=service.VersionRequest(pilot_size=pilot_size),
        )
        session.commit()
        files = service.training_files(version)
        assert set(files) <= {"train", "validation"} and "train" in files
        for path in files.values():
            assert "GOLDEN" not in path.read_text()
        frozen_test = service.frozen_examples(session, version_id=version.id, split="test")
        assert sorted(f.example_id for f in frozen_test) == [g.id for g in goldens]
        assert version.counts["test"] == 3
        if pilot_size == 5:
            assert version.counts["train"] + version.counts["validation"] == 5

    def test_the_freezer_refuses_a_test_example_in_training(self, session: Session) -> None:
        t = team(session)
        examples = approved_set(session, t, 3)
        golden = _approved(session, t, "Golden?", "Yes.", "test")
        version = service._new_version(
            session,
            t.manager,
            t.dataset,
            service.VersionRequest(),
            service.leakage.LeakageReport(),
        )
        splits = {e.id: "train" for e in [*examples, golden]}
        with pytest.raises(Conflict, match="never be used for training"):
            service._freeze(session, version, [*examples, golden], splits)
