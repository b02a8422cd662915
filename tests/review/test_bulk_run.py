""" "Approve all that match": the background run, its rules (the same as one approval each), its
resumption after a stop, the sweeper, and its pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import shutdown
from app.datasets.models import Example, ExampleStatus
from app.db import utcnow
from app.errors import Conflict
from app.review import bulk, bulk_run, queue
from app.review.models import BulkRun, BulkRunStatus, Decision, ReviewDecision
from tests.review.factories import pending, team
from tests.support import get_page, login, soup, text_of


def _status_counts(session: Session, dataset_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Example.status, func.count())
        .where(Example.dataset_id == dataset_id)
        .group_by(Example.status)
    ).all()
    return {str(status): int(count) for status, count in rows}


def _run(session: Session, run_id: int) -> BulkRun:
    session.expire_all()
    run = session.get(BulkRun, run_id)
    assert run is not None
    return run


class TestRun:
    def test_approves_every_match_and_says_what_it_refused_and_why(self, session: Session) -> None:
        t = team(session)
        fine = [pending(session, t) for _ in range(7)]
        mine = pending(session, t, author=t.reviewer)
        clash_a = pending(session, t, question="Shipping cost?", answer="Free.")
        clash_b = pending(session, t, question="Shipping cost?", answer="Five euros.")
        other_tag = pending(session, t, tag="elsewhere")
        spec = queue.TableFilter(status="pending")
        started = bulk_run.start(session, actor=t.reviewer, project=t.project, spec=spec)
        session.commit()
        assert started.total == 11 and started.status == BulkRunStatus.QUEUED

        bulk_run.CHUNK = 3  # several chunks and commits  # type: ignore[misc]
        try:
            outcome = bulk_run.run_bulk_approval(started.id)
        finally:
            bulk_run.CHUNK = 500  # type: ignore[misc]
        assert outcome.startswith("done")
        run = _run(session, started.id)
        assert run.status == BulkRunStatus.DONE and run.processed == 11
        assert run.approved == 9 and run.own == 1 and run.conflicts == 1
        assert run.refused["own"] == [mine.id] and run.refused["conflicts"] == [clash_b.id]
        session.expire_all()
        approved_ids = set(
            session.scalars(select(Example.id).where(Example.status == ExampleStatus.APPROVED))
        )
        assert approved_ids == {e.id for e in fine} | {clash_a.id, other_tag.id}
        decisions = session.scalar(select(func.count()).select_from(ReviewDecision))
        assert decisions == 9

    def test_the_filter_limits_what_is_approved(self, session: Session) -> None:
        t = team(session)
        tagged = [pending(session, t, tag="billing") for _ in range(3)]
        untagged = [pending(session, t) for _ in range(2)]
        spec = queue.parse_filter_query({"status": "pending", "tag": "billing"})
        run = bulk_run.start(session, actor=t.reviewer, project=t.project, spec=spec)
        session.commit()
        bulk_run.run_bulk_approval(run.id)
        session.expire_all()
        statuses = {e.id: session.get(Example, e.id).status for e in tagged + untagged}  # type: ignore[union-attr]
        assert [statuses[e.id] for e in tagged] == ["approved"] * 3
        assert [statuses[e.id] for e in untagged] == ["pending"] * 2

    def test_two_required_approvals_need_two_reviewers_runs(self, session: Session) -> None:
        t = team(session, approvals_required=2)
        examples = [pending(session, t) for _ in range(4)]
        spec = queue.TableFilter()
        first = bulk_run.start(session, actor=t.reviewer, project=t.project, spec=spec)
        session.commit()
        bulk_run.run_bulk_approval(first.id)
        run = _run(session, first.id)
        assert run.approved == 0 and run.waiting == 4
        assert _status_counts(session, t.dataset.id) == {"pending": 4}
        # Nothing left for the same reviewer: their approvals wait for someone else.
        assert (
            bulk_run.count_matching(session, project_id=t.project.id, spec=spec, actor=t.reviewer)
            == 0
        )
        second = bulk_run.start(session, actor=t.second_reviewer, project=t.project, spec=spec)
        session.commit()
        bulk_run.run_bulk_approval(second.id)
        assert _run(session, second.id).approved == 4
        assert _status_counts(session, t.dataset.id) == {"approved": len(examples)}

    def test_one_active_run_per_reviewer_and_nothing_to_approve_is_said(
        self, session: Session
    ) -> None:
        t = team(session)
        pending(session, t)
        bulk_run.start(session, actor=t.reviewer, project=t.project, spec=queue.TableFilter())
        session.commit()
        with pytest.raises(Conflict, match="already approving"):
            bulk_run.start(session, actor=t.reviewer, project=t.project, spec=queue.TableFilter())
        session.rollback()
        nothing = queue.parse_filter_query({"tag": "no-such-tag"})
        with pytest.raises(Conflict, match="No example"):
            bulk_run.start(session, actor=t.second_reviewer, project=t.project, spec=nothing)

    def test_a_stopping_worker_pauses_and_the_next_one_resumes_where_it_stopped(
        self, session: Session
    ) -> None:
        t = team(session)
        examples = [pending(session, t) for _ in range(6)]
        run = bulk_run.start(session, actor=t.reviewer, project=t.project, spec=queue.TableFilter())
        session.commit()
        bulk_run.CHUNK = 2  # type: ignore[misc]
        calls = {"n": 0}
        original = bulk_run._step

        def step_then_stop(run_id: int) -> bool:
            calls["n"] += 1
            more = original(run_id)
            if calls["n"] == 2:
                shutdown.request()
            return more

        bulk_run._step = step_then_stop  # type: ignore[assignment]
        try:
            assert bulk_run.run_bulk_approval(run.id).startswith("paused")
        finally:
            bulk_run._step = original  # type: ignore[assignment]
            shutdown._FLAG[0] = 0  # this test process goes on
        paused = _run(session, run.id)
        assert paused.status == BulkRunStatus.QUEUED and paused.processed == 4
        assert paused.last_id == examples[3].id
        try:
            bulk_run.run_bulk_approval(run.id)
        finally:
            bulk_run.CHUNK = 500  # type: ignore[misc]
        done = _run(session, run.id)
        assert done.status == BulkRunStatus.DONE and done.processed == 6 and done.approved == 6
        assert done.attempts == 2

    def test_the_sweeper_resends_lost_runs_and_recovers_dead_ones(self, session: Session) -> None:
        t = team(session)
        pending(session, t)
        run = bulk_run.start(session, actor=t.reviewer, project=t.project, spec=queue.TableFilter())
        session.commit()
        long_ago = utcnow() - timedelta(hours=1)
        session.execute(
            update(BulkRun)
            .where(BulkRun.id == run.id)
            .values(status=BulkRunStatus.RUNNING, heartbeat_at=long_ago)
        )
        session.commit()
        assert bulk_run.sweep() == {"resent": 1, "recovered": 1}
        assert _run(session, run.id).status == BulkRunStatus.QUEUED
        assert bulk_run.run_bulk_approval(run.id).startswith("done")

    def test_a_reviewer_who_lost_the_role_is_stopped(self, session: Session) -> None:
        t = team(session)
        pending(session, t)
        run = bulk_run.start(session, actor=t.reviewer, project=t.project, spec=queue.TableFilter())
        session.commit()
        from app.projects.models import ProjectMember

        session.execute(
            update(ProjectMember)
            .where(ProjectMember.user_id == t.reviewer.id)
            .values(role="viewer")
        )
        session.commit()
        bulk_run.run_bulk_approval(run.id)
        stopped = _run(session, run.id)
        assert stopped.status == BulkRunStatus.FAILED and stopped.error == "no_permission"
        assert _status_counts(session, t.dataset.id) == {"pending": 1}


class TestApproveMany:
    def test_pending_examples_with_the_same_question_conflict_within_one_batch(
        self, session: Session
    ) -> None:
        t = team(session)
        first = pending(session, t, question="Opening hours?", answer="9 to 5.")
        same = pending(session, t, question="Opening hours?", answer="9 to 5.")
        other = pending(session, t, question="opening  HOURS?", answer="Always open.")
        result = bulk.bulk_decide(
            session,
            actor=t.reviewer,
            project=t.project,
            selection=[(first.id, 1), (same.id, 1), (other.id, 1)],
            decision=Decision.APPROVE,
        )
        session.commit()
        # An exact duplicate is no conflict; a different answer to the same question is.
        assert result.decided == [first.id, same.id] and result.conflicts == [other.id]


class TestPages:
    def test_the_table_offers_approve_all_and_the_run_page_shows_the_summary(
        self, client: TestClient, session: Session, htmx: bool
    ) -> None:
        t = team(session)
        for _ in range(3):
            pending(session, t, tag="billing")
        mine = pending(session, t, tag="billing", author=t.reviewer)
        login(client, t.reviewer)
        table = get_page(client, f"/projects/{t.project.id}/review/table?tag=billing", htmx)
        form = soup(table).select_one("#approve-all")
        assert form is not None
        assert form.select_one("input[name=tag]")["value"] == "billing"  # type: ignore[index]
        response = client.post(
            f"/projects/{t.project.id}/review/approve-all",
            data={"tag": "billing"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        run_url = response.headers["location"]
        waiting = get_page(client, run_url, htmx)
        section = soup(waiting).select_one("#bulk-run")
        assert section is not None and section.get("hx-trigger") == "every 1s"
        assert "4 matching examples" in text_of(waiting)
        run_id = int(run_url.rsplit("/", 1)[1])
        bulk_run.run_bulk_approval(run_id)
        done = get_page(client, run_url, htmx)
        section = soup(done).select_one("#bulk-run")
        assert section is not None and section.get("hx-trigger") is None  # polling stops
        assert "3 examples approved." in text_of(done)
        refused = soup(done).select_one("#bulk-run-refused [data-reason=own]")
        assert refused is not None and f"#{mine.id}" in refused.get_text()
        assert "written by you" in refused.get_text()

    def test_a_selection_of_more_than_a_thousand_examples_is_accepted(
        self, client: TestClient, session: Session
    ) -> None:
        t = team(session)
        example = pending(session, t)
        login(client, t.reviewer)
        selected = [f"{example.id}:1"] + [f"{999_000 + n}:1" for n in range(1500)]
        response = client.post(
            f"/projects/{t.project.id}/review/bulk",
            data={"selected": selected, "decision": "approve"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        session.expire_all()
        assert session.get(Example, example.id).status == "approved"  # type: ignore[union-attr]
