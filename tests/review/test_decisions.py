"""Deciding examples: one decision per example even under real concurrency, two approvals from
two different people, authors never approve their own, conflicts block approval, bulk rules."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import AuditEvent, User
from app.datasets.models import Example, ExampleStatus
from app.db import new_session
from app.errors import Conflict, PermissionDenied, ValidationFailed
from app.i18n import use_locale
from app.notifications.models import Notification
from app.review import bulk, decisions
from app.review.models import Decision, ReviewDecision
from tests.factories import create_user
from tests.review.factories import Team, pending, team

Outcome = str  # "ok" or the conflict message


def _decide(
    action: str, team_: Team, reviewer: User, example_id: int, revision: int = 1
) -> Outcome:
    """One decision in its own session (as one request), committed if it succeeds."""
    with new_session() as session:
        try:
            if action == "approve":
                decisions.approve(
                    session,
                    actor=reviewer,
                    project=team_.project,
                    example_id=example_id,
                    revision=revision,
                )
            else:
                decisions.reject(
                    session,
                    actor=reviewer,
                    project=team_.project,
                    example_id=example_id,
                    revision=revision,
                    reason="The answer quotes an old price.",
                )
            session.commit()
            return "ok"
        except Conflict as conflict:
            session.rollback()
            return conflict.message


def _run_together(calls: list[Callable[[], Outcome]]) -> list[Outcome]:
    """Start every call at the same instant, in threads (each with its own connection)."""
    barrier = threading.Barrier(len(calls))
    results: list[Outcome] = [""] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _decision_rows(session: Session, example_id: int) -> list[ReviewDecision]:
    session.expire_all()
    return list(
        session.scalars(select(ReviewDecision).where(ReviewDecision.example_id == example_id))
    )


class TestConcurrentReviewers:
    def test_the_second_reviewer_waits_for_the_first_and_is_told_who_decided(
        self, session: Session
    ) -> None:
        t = team(session)
        example = pending(session, t)
        holding = threading.Event()
        outcome: dict[str, object] = {}

        def first() -> None:
            with new_session() as s:
                decisions.approve(
                    s, actor=t.reviewer, project=t.project, example_id=example.id, revision=1
                )
                holding.set()
                time.sleep(0.6)  # keep the row locked while the second reviewer decides
                s.commit()

        def second() -> None:
            holding.wait(10)
            started = time.monotonic()
            outcome["message"] = _decide("reject", t, t.second_reviewer, example.id)
            outcome["waited"] = time.monotonic() - started

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert outcome["waited"] >= 0.3  # type: ignore[operator]  # it really waited for the lock
        assert outcome["message"] == (
            f"{t.reviewer.name} approved this example just before you. Nothing more to do here."
        )
        rows = _decision_rows(session, example.id)
        assert [(r.reviewer_id, r.decision, r.final) for r in rows] == [
            (t.reviewer.id, "approve", True)
        ]
        assert session.get(Example, example.id).status == ExampleStatus.APPROVED  # type: ignore[union-attr]

    @pytest.mark.parametrize(
        "actions", [("approve", "reject"), ("reject", "approve"), ("approve", "approve")]
    )
    def test_exactly_one_decision_stands_when_two_decide_at_once(
        self, session: Session, actions: tuple[str, str]
    ) -> None:
        t = team(session)
        example = pending(session, t)
        reviewers = [t.reviewer, t.second_reviewer]
        results = _run_together(
            [
                lambda a=action, r=reviewer: _decide(a, t, r, example.id)  # type: ignore[misc]
                for action, reviewer in zip(actions, reviewers, strict=True)
            ]
        )
        assert sorted(r == "ok" for r in results) == [False, True]
        loser = next(r for r in results if r != "ok")
        assert "just before you" in loser
        rows = _decision_rows(session, example.id)
        assert len(rows) == 1 and rows[0].final
        winner_action = actions[results.index("ok")]
        expected = ExampleStatus.APPROVED if winner_action == "approve" else ExampleStatus.REJECTED
        assert session.get(Example, example.id).status == expected  # type: ignore[union-attr]

    def test_a_stampede_of_reviewers_leaves_one_decision(self, session: Session) -> None:
        t = team(session)
        example = pending(session, t)
        crowd = [t.reviewer, t.second_reviewer] + [
            create_user(session, is_admin=True) for _ in range(4)
        ]
        results = _run_together(
            [lambda r=r: _decide("approve", t, r, example.id) for r in crowd]  # type: ignore[misc]
        )
        assert results.count("ok") == 1
        assert len(_decision_rows(session, example.id)) == 1

    def test_two_required_approvals_given_at_once_both_count(self, session: Session) -> None:
        t = team(session, approvals_required=2)
        example = pending(session, t)
        results = _run_together(
            [
                lambda r=r: _decide("approve", t, r, example.id)  # type: ignore[misc]
                for r in (t.reviewer, t.second_reviewer)
            ]
        )
        assert results == ["ok", "ok"]
        rows = _decision_rows(session, example.id)
        assert sorted(r.final for r in rows) == [False, True]
        assert session.get(Example, example.id).status == ExampleStatus.APPROVED  # type: ignore[union-attr]


class TestRules:
    def test_two_approvals_from_two_different_reviewers(self, session: Session) -> None:
        t = team(session, approvals_required=2)
        example = pending(session, t)
        first = decisions.approve(
            session, actor=t.reviewer, project=t.project, example_id=example.id, revision=1
        )
        session.commit()
        assert (first.status, first.approvals, first.required) == ("pending", 1, 2)
        with pytest.raises(Conflict, match="already approved this example"):
            decisions.approve(
                session, actor=t.reviewer, project=t.project, example_id=example.id, revision=1
            )
        session.rollback()
        second = decisions.approve(
            session,
            actor=t.second_reviewer,
            project=t.project,
            example_id=example.id,
            revision=1,
        )
        session.commit()
        assert (second.status, second.approvals) == ("approved", 2)
        audits = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "example.approve")
        ).all()
        assert [d["approvals"] for d in audits] == [1, 2]

    def test_an_author_never_approves_their_own_example(self, session: Session) -> None:
        t = team(session)
        example = pending(session, t, author=t.reviewer)
        with pytest.raises(PermissionDenied, match="You wrote this example"):
            decisions.approve(
                session, actor=t.reviewer, project=t.project, example_id=example.id, revision=1
            )
        session.rollback()
        assert _decision_rows(session, example.id) == []
        manager_as_author = pending(session, t, author=t.manager)
        with pytest.raises(PermissionDenied):
            decisions.approve(
                session,
                actor=t.manager,
                project=t.project,
                example_id=manager_as_author.id,
                revision=1,
            )

    def test_rejecting_needs_a_reason_and_notifies_the_author(self, session: Session) -> None:
        t = team(session)
        example = pending(session, t)
        with pytest.raises(ValidationFailed) as missing:
            decisions.reject(
                session,
                actor=t.reviewer,
                project=t.project,
                example_id=example.id,
                revision=1,
                reason="   ",
            )
        assert "Say why the example is returned" in missing.value.errors["reason"]
        session.rollback()
        decisions.reject(
            session,
            actor=t.reviewer,
            project=t.project,
            example_id=example.id,
            revision=1,
            reason="Shipping is free from 5,000 yen, not 3,000.",
        )
        session.commit()
        note = session.scalar(select(Notification).where(Notification.user_id == t.expert.id))
        assert note is not None and note.kind == "review.returned"
        assert note.params["reason"] == "Shipping is free from 5,000 yen, not 3,000."
        assert note.link == f"/projects/{t.project.id}/my-examples/{example.id}/edit"

    def test_a_stale_revision_is_refused(self, session: Session) -> None:
        t = team(session)
        example = pending(session, t)
        example.revision = 2  # edited after the reviewer opened it
        session.commit()
        with pytest.raises(Conflict, match="changed after you opened it"):
            decisions.approve(
                session, actor=t.reviewer, project=t.project, example_id=example.id, revision=1
            )

    def test_a_conflicting_approved_answer_blocks_approval(self, session: Session) -> None:
        t = team(session)
        kept = pending(
            session,
            t,
            question="Is shipping free?",
            answer="Yes, always.",
            status=ExampleStatus.APPROVED,
        )
        other = pending(session, t, question="Is shipping free?", answer="Only above 5,000 yen.")
        with pytest.raises(decisions.ConflictingAnswers) as blocked:
            decisions.approve(
                session, actor=t.reviewer, project=t.project, example_id=other.id, revision=1
            )
        assert blocked.value.conflicting_ids == [kept.id]
        session.rollback()
        decisions.withdraw_for_conflict(
            session,
            actor=t.reviewer,
            project=t.project,
            approved_id=kept.id,
            replacement_id=other.id,
        )
        outcome = decisions.approve(
            session, actor=t.reviewer, project=t.project, example_id=other.id, revision=1
        )
        session.commit()
        assert outcome.status == "approved"
        session.refresh(kept)
        assert kept.status == ExampleStatus.REJECTED
        # The reason TuneDesk wrote is stored as a code and put into words in each reader's
        # language when shown, not frozen in the language of whoever resolved the conflict.
        returned = _decision_rows(session, kept.id)[0]
        assert (returned.reason, returned.reason_code) == ("", "conflict_kept_other")
        assert f"#{other.id}" in returned.reason_text
        with use_locale("ja"):
            assert f"#{other.id}" in returned.reason_text
            assert "同じ" in returned.reason_text


class TestBulk:
    def test_bulk_approve_reports_what_it_could_not_decide(self, session: Session) -> None:
        t = team(session)
        mine = pending(session, t, author=t.reviewer)
        fine = [pending(session, t) for _ in range(3)]
        moved = pending(session, t)
        moved.status = ExampleStatus.APPROVED
        session.commit()
        selection = [(e.id, 1) for e in [*fine, mine, moved]]
        result = bulk.bulk_decide(
            session,
            actor=t.reviewer,
            project=t.project,
            selection=selection,
            decision=Decision.APPROVE,
        )
        session.commit()
        assert result.decided == [e.id for e in fine]
        assert result.own == [mine.id] and result.moved == [moved.id]
        count = session.scalar(
            select(func.count()).select_from(Example).where(Example.status == "approved")
        )
        assert count == 4

    def test_bulk_reject_needs_a_reason(self, session: Session) -> None:
        t = team(session)
        example = pending(session, t)
        with pytest.raises(ValidationFailed):
            bulk.bulk_decide(
                session,
                actor=t.reviewer,
                project=t.project,
                selection=[(example.id, 1)],
                decision=Decision.REJECT,
                reason="",
            )

    def test_selection_values_are_parsed_defensively(self) -> None:
        assert bulk.parse_selection(["3:1", "x:1", "4:2", "3:1", "5"]) == [(3, 1), (4, 2)]
