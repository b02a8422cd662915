"""Serving examples: automatic distribution with leases, skips, the table's filters and cursors,
and the progress figures."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.datasets.models import Example, ExampleStatus
from app.db import new_session, utcnow
from app.review import decisions, progress, queue
from app.review.models import ReviewLease
from app.review.settings import Rules, rules_for
from tests.review.factories import pending, team


def _rules(session: Session, project_id: int) -> Rules:
    return rules_for(session, project_id)


class TestDistribution:
    def test_two_reviewers_are_never_served_the_same_example(self, session: Session) -> None:
        t = team(session)
        examples = [pending(session, t) for _ in range(3)]
        rules = _rules(session, t.project.id)
        first = queue.claim_next(session, project_id=t.project.id, reviewer=t.reviewer, rules=rules)
        session.commit()
        second = queue.claim_next(
            session, project_id=t.project.id, reviewer=t.second_reviewer, rules=rules
        )
        session.commit()
        assert first is not None and second is not None
        assert first.id == examples[0].id and second.id == examples[1].id
        again = queue.claim_next(session, project_id=t.project.id, reviewer=t.reviewer, rules=rules)
        assert again is not None and again.id == first.id  # my lease is mine to keep

    def test_concurrent_claims_get_different_examples(self, session: Session) -> None:
        t = team(session)
        for _ in range(4):
            pending(session, t)
        reviewers = [t.reviewer, t.second_reviewer, t.manager]
        barrier = threading.Barrier(len(reviewers))
        served: list[int | None] = [None] * len(reviewers)

        def claim(index: int) -> None:
            with new_session() as s:
                barrier.wait()
                example = queue.claim_next(
                    s,
                    project_id=t.project.id,
                    reviewer=reviewers[index],
                    rules=rules_for(s, t.project.id),
                )
                s.commit()
                served[index] = example.id if example else None

        threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(reviewers))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert None not in served and len(set(served)) == len(reviewers)
        leases = session.scalars(select(ReviewLease.reviewer_id)).all()
        assert sorted(leases) == sorted(r.id for r in reviewers)

    def test_an_expired_lease_frees_the_example(self, session: Session) -> None:
        t = team(session)
        example = pending(session, t)
        rules = _rules(session, t.project.id)
        queue.claim_next(session, project_id=t.project.id, reviewer=t.reviewer, rules=rules)
        session.commit()
        assert (
            queue.claim_next(
                session, project_id=t.project.id, reviewer=t.second_reviewer, rules=rules
            )
            is None
        )
        lease = session.get(ReviewLease, example.id)
        assert lease is not None
        lease.expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
        taken = queue.claim_next(
            session, project_id=t.project.id, reviewer=t.second_reviewer, rules=rules
        )
        assert taken is not None and taken.id == example.id

    def test_without_automatic_distribution_everyone_sees_the_queue(self, session: Session) -> None:
        t = team(session, auto_assign=False)
        example = pending(session, t)
        rules = _rules(session, t.project.id)
        for reviewer in (t.reviewer, t.second_reviewer):
            served = queue.claim_next(
                session, project_id=t.project.id, reviewer=reviewer, rules=rules
            )
            assert served is not None and served.id == example.id
        assert session.scalars(select(ReviewLease)).all() == []

    def test_authors_and_earlier_approvers_are_not_served(self, session: Session) -> None:
        t = team(session, approvals_required=2)
        own = pending(session, t, author=t.reviewer)
        other = pending(session, t)
        rules = _rules(session, t.project.id)
        served = queue.next_id(session, project_id=t.project.id, reviewer=t.reviewer, rules=rules)
        assert served == other.id
        decisions.approve(
            session, actor=t.reviewer, project=t.project, example_id=other.id, revision=1
        )
        session.commit()
        assert (
            queue.next_id(session, project_id=t.project.id, reviewer=t.reviewer, rules=rules)
            is None
        )
        assert (
            queue.next_id(session, project_id=t.project.id, reviewer=t.second_reviewer, rules=rules)
            == own.id
        )

    def test_skipped_examples_come_last(self, session: Session) -> None:
        t = team(session)
        first, second = pending(session, t), pending(session, t)
        rules = _rules(session, t.project.id)
        queue.skip(session, example=first, reviewer=t.reviewer)
        session.commit()
        served = queue.next_id(session, project_id=t.project.id, reviewer=t.reviewer, rules=rules)
        assert served == second.id
        second.status = ExampleStatus.APPROVED
        session.commit()
        served = queue.next_id(session, project_id=t.project.id, reviewer=t.reviewer, rules=rules)
        assert served == first.id  # nothing else waits: the skipped one comes back

    def test_next_and_previous_follow_queue_order_and_wrap(self, session: Session) -> None:
        t = team(session)
        a, b, c = (pending(session, t) for _ in range(3))
        rules = _rules(session, t.project.id)
        args = {"project_id": t.project.id, "reviewer": t.reviewer, "rules": rules}
        assert queue.next_id(session, after=a.id, **args) == b.id
        assert queue.next_id(session, after=c.id, **args) == a.id
        assert queue.previous_id(session, before=c.id, **args) == b.id
        assert queue.previous_id(session, before=a.id, **args) is None


class TestTable:
    def test_filters_combine(self, session: Session) -> None:
        t = team(session)
        pii = pending(session, t, tag="billing")
        pii.issues = [
            {"code": "pii_email", "severity": "warning", "row": 2, "span": ["turns.1", 0, 5]}
        ]
        pii.warning_count = 1  # as the intake stores it (counts go with the findings)
        plain = pending(session, t, tag="billing", author=t.second_reviewer)
        pending(session, t, tag="shipping")
        session.commit()
        by_code = queue.table_page(
            session, project_id=t.project.id, spec=queue.TableFilter(code="pii_email")
        )
        assert [e.id for e in by_code.examples] == [pii.id]
        near_miss = queue.table_page(
            session, project_id=t.project.id, spec=queue.TableFilter(code="pii_e")
        )
        assert near_miss.examples == []
        by_tag_author = queue.table_page(
            session,
            project_id=t.project.id,
            spec=queue.TableFilter(tag="billing", author_id=t.second_reviewer.id),
        )
        assert [e.id for e in by_tag_author.examples] == [plain.id]
        today = utcnow().date()
        dated = queue.table_page(
            session,
            project_id=t.project.id,
            spec=queue.TableFilter(submitted_from=today, submitted_to=today),
        )
        assert dated.total == 3
        old = queue.table_page(
            session,
            project_id=t.project.id,
            spec=queue.TableFilter(submitted_to=today - timedelta(days=1)),
        )
        assert old.total == 0

    def test_code_filter_pages_through_findings_in_chunks(
        self, session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(queue, "ID_CHUNK", 3)
        monkeypatch.setattr(queue, "PAGE_SIZE", 2)
        t = team(session)
        matching = []
        for index in range(12):
            example = pending(session, t)
            code = "pii_phone" if index % 3 == 0 else "whitespace"
            example.issues = [{"code": code, "severity": "warning", "row": 2}]
            example.warning_count = 1
            if code == "pii_phone":
                matching.append(example.id)
            pending(session, t)  # clean examples in between are never searched
        session.commit()
        spec = queue.TableFilter(code="pii_phone")
        seen: list[int] = []
        page = queue.table_page(session, project_id=t.project.id, spec=spec)
        while True:
            seen += [e.id for e in page.examples]
            if page.next_cursor is None:
                break
            page = queue.table_page(
                session, project_id=t.project.id, spec=spec, after=page.next_cursor
            )
        assert seen == matching and page.total == 4 and not page.total_is_lower_bound
        back = queue.table_page(session, project_id=t.project.id, spec=spec, before=matching[2])
        assert [e.id for e in back.examples] == matching[:2]
        monkeypatch.setattr(queue, "CODE_COUNT_SCAN", 5)  # only the first 5 with findings
        bounded = queue.table_page(session, project_id=t.project.id, spec=spec)
        assert (bounded.total, bounded.total_is_lower_bound) == (2, True)

    def test_cursor_pages_through_everything_once(self, session: Session) -> None:
        t = team(session)
        ids = [pending(session, t).id for _ in range(queue.PAGE_SIZE + 7)]
        first = queue.table_page(session, project_id=t.project.id, spec=queue.TableFilter())
        assert [e.id for e in first.examples] == ids[: queue.PAGE_SIZE]
        assert first.prev_cursor is None and first.next_cursor == ids[queue.PAGE_SIZE - 1]
        second = queue.table_page(
            session, project_id=t.project.id, spec=queue.TableFilter(), after=first.next_cursor
        )
        assert [e.id for e in second.examples] == ids[queue.PAGE_SIZE :]
        assert second.next_cursor is None and second.prev_cursor == ids[queue.PAGE_SIZE]
        back = queue.table_page(
            session, project_id=t.project.id, spec=queue.TableFilter(), before=second.prev_cursor
        )
        assert [e.id for e in back.examples] == ids[: queue.PAGE_SIZE]
        newest = queue.table_page(
            session, project_id=t.project.id, spec=queue.TableFilter(newest_first=True)
        )
        assert newest.examples[0].id == ids[-1]


class TestProgress:
    def test_counts_per_status_reviewer_and_day(self, session: Session) -> None:
        t = team(session)
        examples = [pending(session, t) for _ in range(5)]
        decisions.approve(
            session, actor=t.reviewer, project=t.project, example_id=examples[0].id, revision=1
        )
        decisions.approve(
            session, actor=t.reviewer, project=t.project, example_id=examples[1].id, revision=1
        )
        decisions.reject(
            session,
            actor=t.second_reviewer,
            project=t.project,
            example_id=examples[2].id,
            revision=1,
            reason="Too vague.",
        )
        session.commit()
        report = progress.project_progress(session, project_id=t.project.id)
        assert (
            report.by_status["pending"],
            report.by_status["approved"],
            report.by_status["rejected"],
        ) == (2, 2, 1)
        rows = {row.name: (row.approved, row.rejected) for row in report.reviewers}
        assert rows == {t.reviewer.name: (2, 0), t.second_reviewer.name: (0, 1)}
        assert report.days[-1][1:] == (2, 1) and len(report.days) == progress.DAYS
        oldest = session.scalar(select(Example.submitted_at).where(Example.id == examples[3].id))
        assert report.oldest_waiting == oldest
        mine = progress.my_day(
            session,
            project_id=t.project.id,
            reviewer=t.reviewer,
            rules=_rules(session, t.project.id),
        )
        assert (mine.waiting_for_me, mine.decided_today) == (2, 2)
