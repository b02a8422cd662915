""" "Approve all that match": one reviewer approves every pending example a filter of the review
table matches, however many, in the background.

The request only counts what matches and records a :class:`~app.review.models.BulkRun` row; the
``review.run_bulk_approval`` task claims it (compare-and-set ``queued → running``) and works
through the matching examples in id order, one chunk per short transaction
(:func:`app.review.bulk.approve_many`: the same rules as one approval each). Counters and the
resume point (``last_id``) move in the chunk's own commit, so the progress bar is exact, other
writers (imports, heartbeats) never wait long for the database, and a stopped or killed worker
resumes after the last committed chunk: a stopping worker puts the run back in the queue, the
beat sweeper re-sends runs whose message was lost or whose worker died.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from app import shutdown
from app.auth import audit
from app.auth.models import User
from app.datasets.models import Example, ExampleStatus
from app.db import refresh_statistics, rows_affected, task_session, utcnow
from app.errors import Conflict, NotFound
from app.i18n import N_, _
from app.projects.models import Project
from app.projects.permissions import Permission, Role, role_allows
from app.projects.service import membership
from app.review import bulk, queue
from app.review.models import BulkRun, BulkRunStatus, Decision, ReviewDecision
from app.review.settings import rules_for
from app.worker import enqueue_after_commit, send_task

logger = logging.getLogger(__name__)

AUDIT_ACTIONS = {
    "example.approve_all": N_("Started approving all matching examples"),
    "example.approve_all_done": N_("Finished approving all matching examples"),
}

RUN_TASK = "review.run_bulk_approval"
CHUNK = 500  # examples decided per transaction
KEEP_IDS = 50  # refused example ids kept per reason, to show
UNCLAIMED_AFTER = timedelta(minutes=1)  # queued that long: its message was lost
STALE_AFTER = timedelta(minutes=3)  # running without a sign of life that long: worker died
ACTIVE = (BulkRunStatus.QUEUED, BulkRunStatus.RUNNING)


def _matching(project_id: int, spec: queue.TableFilter) -> list[Any]:
    """The table filter's conditions, limited to pending examples (the finding code searched in
    the stored findings, as the table does)."""
    pending = replace(spec, status=ExampleStatus.PENDING.value)
    conditions, code = queue.table_conditions(project_id, pending)
    if code is not None:
        conditions.append(code)
    return conditions


def _approved_by(reviewer_id: int) -> Any:
    """Join condition: the reviewer approved the example's current revision already."""
    return and_(
        ReviewDecision.example_id == Example.id,
        ReviewDecision.revision == Example.revision,
        ReviewDecision.reviewer_id == reviewer_id,
        ReviewDecision.decision == Decision.APPROVE,
    )


def count_matching(
    session: Session, *, project_id: int, spec: queue.TableFilter, actor: User
) -> int:
    """Pending examples the filter matches, less those this reviewer approved already (with
    two approvals required, theirs waits for someone else: nothing to do again).

    Two plain counts rather than one NOT EXISTS: PostgreSQL, its statistics behind after a
    first run, planned the anti-join as a nested loop over every decision of the reviewer."""
    conditions = _matching(project_id, spec)
    matching = session.scalar(select(func.count(Example.id)).where(and_(*conditions))) or 0
    done = session.scalar(
        select(func.count(Example.id))
        .join(ReviewDecision, _approved_by(actor.id))
        .where(and_(*conditions))
    )
    return matching - (done or 0)


def active_run(session: Session, *, project_id: int, actor_id: int) -> BulkRun | None:
    return session.scalar(
        select(BulkRun)
        .where(
            BulkRun.project_id == project_id,
            BulkRun.actor_id == actor_id,
            BulkRun.status.in_(ACTIVE),
        )
        .order_by(BulkRun.id.desc())
        .limit(1)
    )


def start(session: Session, *, actor: User, project: Project, spec: queue.TableFilter) -> BulkRun:
    """Record the run and send its task once this commits (one active run per reviewer)."""
    if active_run(session, project_id=project.id, actor_id=actor.id) is not None:
        raise Conflict(
            _(
                "You are already approving a set of examples in this project. Wait until it is "
                "done, then start the next one."
            )
        )
    total = count_matching(session, project_id=project.id, spec=spec, actor=actor)
    if total == 0:
        raise Conflict(_("No example waiting for your review matches these filters."))
    run = BulkRun(
        project_id=project.id,
        actor_id=actor.id,
        decision=Decision.APPROVE,
        filter=spec.as_query(),
        status=BulkRunStatus.QUEUED,
        total=total,
        refused={},
        queued_at=utcnow(),
    )
    session.add(run)
    session.flush()
    enqueue_after_commit(session, RUN_TASK, run.id)
    audit.record(
        session,
        actor=actor,
        action="example.approve_all",
        object_type="project",
        object_id=project.id,
        project_id=project.id,
        summary=f"{total}",
        details={"run": run.id, "filter": run.filter},
    )
    return run


def get_run(session: Session, *, project_id: int, run_id: int) -> BulkRun:
    run = session.get(BulkRun, run_id)
    if run is None or run.project_id != project_id:
        raise NotFound(_("This bulk approval does not exist in this project."))
    return run


# --- The task ------------------------------------------------------------------------------------


def _claim(run_id: int) -> bool:
    with task_session() as session:
        now = utcnow()
        claimed = session.execute(
            update(BulkRun)
            .where(BulkRun.id == run_id, BulkRun.status == BulkRunStatus.QUEUED)
            .values(
                status=BulkRunStatus.RUNNING,
                started_at=func.coalesce(BulkRun.started_at, now),
                heartbeat_at=now,
                attempts=BulkRun.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        return rows_affected(claimed) == 1


def _may_still_review(session: Session, run: BulkRun) -> bool:
    """The reviewer may still approve in this project (their role may have changed)."""
    actor = session.get(User, run.actor_id) if run.actor_id else None
    if actor is None or not actor.is_active:
        return False
    if actor.is_admin:
        return True
    member = membership(session, project_id=run.project_id, user_id=actor.id)
    return member is not None and role_allows(Role(member.role), Permission.REVIEW)


def _next_chunk(session: Session, run: BulkRun, actor: User) -> tuple[int, list[tuple[int, int]]]:
    """The next matching examples after the resume point: (the last id read, those of them
    still to decide). Examples the reviewer approved already are passed over, found by a
    lookup of the chunk's ids (an index range read, whatever the planner's statistics)."""
    spec = queue.parse_filter_query(run.filter)
    rows = session.execute(
        select(Example.id, Example.revision)
        .where(and_(*_matching(run.project_id, spec)), Example.id > run.last_id)
        .order_by(Example.id)
        .limit(CHUNK)
    ).all()
    if not rows:
        return run.last_id, []
    mine = set(
        session.execute(
            select(ReviewDecision.example_id, ReviewDecision.revision).where(
                ReviewDecision.example_id.in_([row[0] for row in rows]),
                ReviewDecision.reviewer_id == actor.id,
                ReviewDecision.decision == Decision.APPROVE,
            )
        ).all()
    )
    chunk = [(int(i), int(revision)) for i, revision in rows if (i, revision) not in mine]
    return int(rows[-1][0]), chunk


def _record(
    run: BulkRun, last_id: int, chunk: list[tuple[int, int]], result: bulk.BulkResult
) -> None:
    run.processed += len(chunk)
    run.approved += len(result.decided) - len(result.waiting)
    run.waiting += len(result.waiting)
    run.own += len(result.own)
    run.conflicts += len(result.conflicts)
    run.moved += len(result.moved)
    kept = {key: list(value) for key, value in (run.refused or {}).items()}
    for reason, ids in (
        ("own", result.own),
        ("conflicts", result.conflicts),
        ("moved", result.moved),
    ):
        room = KEEP_IDS - len(kept.get(reason, []))
        if ids and room > 0:
            kept[reason] = kept.get(reason, []) + sorted(ids)[:room]
    run.refused = kept
    run.last_id = last_id
    run.heartbeat_at = utcnow()


def _finish(
    session: Session, run: BulkRun, actor: User | None, *, error: str | None = None
) -> None:
    run.status = BulkRunStatus.FAILED if error else BulkRunStatus.DONE
    run.error = error
    run.finished_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action="example.approve_all_done",
        object_type="project",
        object_id=run.project_id,
        project_id=run.project_id,
        summary=f"{run.approved + run.waiting}/{run.total}",
        details={
            "run": run.id,
            "approved": run.approved,
            "waiting": run.waiting,
            "own": run.own,
            "conflicts": run.conflicts,
            "moved": run.moved,
            "error": error,
        },
    )
    refresh_statistics(session, "example", "review_decision")  # many rows changed at once


def _step(run_id: int) -> bool:
    """Decide one chunk in one transaction; False once the run is over (or not ours)."""
    with task_session() as session:
        run = session.get(BulkRun, run_id)
        if run is None or run.status != BulkRunStatus.RUNNING:
            return False
        actor = session.get(User, run.actor_id) if run.actor_id else None
        project = session.get(Project, run.project_id)
        if actor is None or project is None or not _may_still_review(session, run):
            _finish(session, run, actor, error="no_permission")
            return False
        last_id, chunk = _next_chunk(session, run, actor)
        if last_id == run.last_id:
            _finish(session, run, actor)
            return False
        result = bulk.BulkResult()
        rules = rules_for(session, project.id)
        if chunk:
            bulk.approve_many(
                session, actor=actor, project=project, rules=rules, selection=chunk, result=result
            )
        _record(run, last_id, chunk, result)
        return True


def _put_back(run_id: int) -> None:
    with task_session() as session:
        session.execute(
            update(BulkRun)
            .where(BulkRun.id == run_id, BulkRun.status == BulkRunStatus.RUNNING)
            .values(status=BulkRunStatus.QUEUED, queued_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def run_bulk_approval(run_id: int) -> str:
    """The task's work: claim the run and decide chunk after chunk until none is left."""
    if not _claim(run_id):
        return "not queued"
    started = time.monotonic()
    chunks = 0
    while True:
        if shutdown.requested():
            _put_back(run_id)  # the next worker resumes after the last committed chunk
            return f"paused after {chunks} chunks"
        try:
            more = _step(run_id)
        except Exception:
            logger.exception("bulk approval %s failed", run_id)
            with task_session() as session:
                run = session.get(BulkRun, run_id)
                if run is not None and run.status == BulkRunStatus.RUNNING:
                    actor = session.get(User, run.actor_id) if run.actor_id else None
                    _finish(session, run, actor, error="internal")
            return "failed"
        if not more:
            return f"done in {time.monotonic() - started:.1f} s"
        chunks += 1


# --- The sweeper ---------------------------------------------------------------------------------


def sweep() -> dict[str, int]:
    """Re-send runs whose message was lost; put back runs whose worker died."""
    now = utcnow()
    with task_session() as session:
        stale = session.execute(
            update(BulkRun)
            .where(
                BulkRun.status == BulkRunStatus.RUNNING,
                or_(BulkRun.heartbeat_at.is_(None), BulkRun.heartbeat_at < now - STALE_AFTER),
            )
            .values(status=BulkRunStatus.QUEUED, queued_at=now - UNCLAIMED_AFTER)
            .execution_options(synchronize_session=False)
        )
        ids = list(
            session.scalars(
                select(BulkRun.id)
                .where(
                    BulkRun.status == BulkRunStatus.QUEUED,
                    BulkRun.queued_at <= now - UNCLAIMED_AFTER,
                )
                .order_by(BulkRun.id)
                .limit(50)
            )
        )
    for run_id in ids:
        send_task(RUN_TASK, [run_id])
    return {"resent": len(ids), "recovered": rows_affected(stale)}
