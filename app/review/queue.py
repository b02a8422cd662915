"""Reading the review queue: which example a reviewer is served next, leases, skips, and the
filtered table view.

Queue order is example id (upload order); a returned example that its author fixed keeps its
id, so it comes back near the front instead of waiting behind everything uploaded since.
With automatic distribution a reviewer holds a lease on the example they look at, and nobody
else is served it until the lease ends. Leases only steer who sees what: decisions themselves
are compare-and-set on the example, so two reviewers can never both decide one example.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.models import Example, ExampleStatus
from app.db import rows_affected, utcnow
from app.review.models import HAS_FINDINGS, Decision, ReviewDecision, ReviewLease, ReviewSkip
from app.review.settings import Rules

PAGE_SIZE = 50
ID_CHUNK = 500  # ids read per step when searching findings for a code
CODE_COUNT_SCAN = 1_000  # examples with findings searched to count a finding code
COUNT_CAP = 1_000  # counting further on every page view costs more than the exact figure tells
STATUSES = ("pending", "approved", "rejected", "all")


# --- Leases ------------------------------------------------------------------------------------


def take_lease(session: Session, *, example: Example, reviewer: User, minutes: int) -> bool:
    """Lease ``example`` to ``reviewer`` unless someone else holds an unexpired lease on it.

    One upsert: insert, or take over a lease that is ours or has expired. Concurrent callers
    are serialised by the primary key, so at most one of them gets an active lease.
    """
    now = utcnow()
    values = {
        "example_id": example.id,
        "project_id": example.project_id,
        "reviewer_id": reviewer.id,
        "expires_at": now + timedelta(minutes=minutes),
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(ReviewLease)
        .values(**values)
        .on_conflict_do_update(
            index_elements=[ReviewLease.example_id],
            set_={"reviewer_id": reviewer.id, "expires_at": values["expires_at"]},
            where=or_(ReviewLease.reviewer_id == reviewer.id, ReviewLease.expires_at < now),
        )
        # A returned row says the lease is ours (row counts of upserts differ between drivers).
        .returning(ReviewLease.reviewer_id)
    )
    return session.execute(statement).first() is not None


def release_lease(session: Session, *, example_id: int, reviewer_id: int | None = None) -> None:
    statement = delete(ReviewLease).where(ReviewLease.example_id == example_id)
    if reviewer_id is not None:
        statement = statement.where(ReviewLease.reviewer_id == reviewer_id)
    session.execute(statement)


@dataclass(frozen=True)
class Holder:
    reviewer_id: int
    name: str
    expires_at: datetime


def lease_holder(session: Session, *, example_id: int) -> Holder | None:
    """Who holds an unexpired lease on the example, if anyone."""
    row = session.execute(
        select(ReviewLease.reviewer_id, User.name, ReviewLease.expires_at)
        .join(User, User.id == ReviewLease.reviewer_id)
        .where(ReviewLease.example_id == example_id, ReviewLease.expires_at > utcnow())
    ).first()
    return Holder(row[0], row[1], row[2]) if row else None


def skip(session: Session, *, example: Example, reviewer: User) -> None:
    """Pass on an example for now: release our lease and serve it to us last."""
    release_lease(session, example_id=example.id, reviewer_id=reviewer.id)
    exists_already = session.get(ReviewSkip, (example.id, reviewer.id))
    if exists_already is None:
        session.add(ReviewSkip(example_id=example.id, reviewer_id=reviewer.id))
    else:
        exists_already.created_at = utcnow()


# --- What a reviewer may be served ----------------------------------------------------------------


def _approved_by(reviewer_id: int) -> ColumnElement[bool]:
    """The reviewer already approved the example's current revision (waiting for someone else)."""
    return exists().where(
        ReviewDecision.example_id == Example.id,
        ReviewDecision.revision == Example.revision,
        ReviewDecision.reviewer_id == reviewer_id,
        ReviewDecision.decision == Decision.APPROVE,
    )


def _leased_by_other(reviewer_id: int) -> ColumnElement[bool]:
    return exists().where(
        ReviewLease.example_id == Example.id,
        ReviewLease.reviewer_id != reviewer_id,
        ReviewLease.expires_at > utcnow(),
    )


def _skipped_by(reviewer_id: int) -> ColumnElement[bool]:
    return exists().where(
        ReviewSkip.example_id == Example.id, ReviewSkip.reviewer_id == reviewer_id
    )


def servable(project_id: int, reviewer: User, rules: Rules) -> Select[int]:
    """Ids of the pending examples this reviewer may decide now, in queue order."""
    query = (
        select(Example.id)
        .where(
            Example.project_id == project_id,
            Example.status == ExampleStatus.PENDING,
            or_(Example.author_id.is_(None), Example.author_id != reviewer.id),
            ~_approved_by(reviewer.id),
        )
        .order_by(Example.id)
    )
    if rules.auto_assign:
        query = query.where(~_leased_by_other(reviewer.id))
    return query


def _first_id(session: Session, query: Select[int]) -> int | None:
    return session.scalar(query.limit(1))


def next_id(
    session: Session,
    *,
    project_id: int,
    reviewer: User,
    rules: Rules,
    after: int | None = None,
    exclude: Sequence[int] = (),
) -> int | None:
    """The example to serve next: after ``after`` in queue order (wrapping to the start), never
    one in ``exclude``; examples the reviewer skipped come only when nothing else waits."""
    base = servable(project_id, reviewer, rules)
    if exclude:
        base = base.where(Example.id.not_in(list(exclude)))
    fresh = base.where(~_skipped_by(reviewer.id))
    for query in (fresh, base):
        if after is not None:
            found = _first_id(session, query.where(Example.id > after))
            if found is not None:
                return found
        found = _first_id(session, query)
        if found is not None:
            return found
    return None


def previous_id(
    session: Session, *, project_id: int, reviewer: User, rules: Rules, before: int
) -> int | None:
    """The servable example just before ``before`` in queue order (for the ← shortcut)."""
    query = servable(project_id, reviewer, rules).where(Example.id < before)
    return session.scalar(query.order_by(None).order_by(Example.id.desc()).limit(1))


def claim_next(
    session: Session,
    *,
    project_id: int,
    reviewer: User,
    rules: Rules,
    after: int | None = None,
    exclude: Sequence[int] = (),
) -> Example | None:
    """Serve the next example and lease it (another reviewer may win a race for it: then the
    one after it is tried)."""
    tried: list[int] = list(exclude)
    for _attempt in range(5):
        found = next_id(
            session,
            project_id=project_id,
            reviewer=reviewer,
            rules=rules,
            after=after,
            exclude=tried,
        )
        if found is None:
            return None
        example = session.get(Example, found)
        if example is None:
            continue
        if not rules.auto_assign or take_lease(
            session, example=example, reviewer=reviewer, minutes=rules.lease_minutes
        ):
            return example
        tried.append(found)
    return None


def clear_skips(session: Session, *, example_id: int) -> None:
    """An example that changed (edited, resubmitted) deserves a fresh look from everyone."""
    session.execute(delete(ReviewSkip).where(ReviewSkip.example_id == example_id))


def renew_lease_for_view(
    session: Session, *, example: Example, reviewer: User, rules: Rules
) -> Holder | None:
    """Lease an example a reviewer opened; returns who else holds it when they could not."""
    if not rules.auto_assign or example.status != ExampleStatus.PENDING:
        return None
    if take_lease(session, example=example, reviewer=reviewer, minutes=rules.lease_minutes):
        return None
    return lease_holder(session, example_id=example.id)


def touch_lease(session: Session, *, example_id: int, reviewer_id: int, minutes: int) -> bool:
    """Extend our own lease (an edit form kept open); False when it was lost meanwhile."""
    result = session.execute(
        update(ReviewLease)
        .where(ReviewLease.example_id == example_id, ReviewLease.reviewer_id == reviewer_id)
        .values(expires_at=utcnow() + timedelta(minutes=minutes))
    )
    return rows_affected(result) == 1


# --- The table view ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableFilter:
    status: str = "pending"
    code: str = ""  # a finding code (exact_duplicate, pii_email…)
    author_id: int | None = None
    upload_id: int | None = None
    dataset_id: int | None = None
    tag: str = ""
    origin: str = ""
    submitted_from: date | None = None
    submitted_to: date | None = None
    newest_first: bool = False

    def as_query(self) -> dict[str, Any]:
        """The filter as URL parameters (for links that keep it)."""
        values: dict[str, Any] = {
            "status": self.status,
            "code": self.code,
            "author": self.author_id,
            "upload": self.upload_id,
            "dataset": self.dataset_id,
            "tag": self.tag,
            "origin": self.origin,
            "from": self.submitted_from.isoformat() if self.submitted_from else None,
            "to": self.submitted_to.isoformat() if self.submitted_to else None,
            "order": "newest" if self.newest_first else None,
        }
        return {key: value for key, value in values.items() if value not in (None, "")}

    @property
    def active(self) -> bool:
        return any(key not in ("status", "order") for key in self.as_query())


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min).replace(tzinfo=utcnow().tzinfo)


def _int_or_none(value: Any) -> int | None:
    return int(value) if value is not None and str(value).isdigit() else None


def _date_or_none(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def parse_filter_query(params: Mapping[str, Any]) -> TableFilter:
    """The table filter from URL parameters (``TableFilter.as_query`` gives them back)."""
    status = str(params.get("status") or "pending")
    origin = str(params.get("origin") or "")
    return TableFilter(
        status=status if status in STATUSES else "pending",
        code=str(params.get("code") or "").strip()[:40],
        author_id=_int_or_none(params.get("author")),
        upload_id=_int_or_none(params.get("upload")),
        dataset_id=_int_or_none(params.get("dataset")),
        tag=str(params.get("tag") or "").strip()[:100],
        origin=origin if origin in ("upload", "manual", "evaluation") else "",
        submitted_from=_date_or_none(params.get("from")),
        submitted_to=_date_or_none(params.get("to")),
        newest_first=params.get("order") == "newest",
    )


def table_conditions(
    project_id: int, spec: TableFilter
) -> tuple[list[ColumnElement[bool]], ColumnElement[bool] | None]:
    """The filter as SQL conditions, and the finding-code test apart (see ``_page_rows``)."""
    conditions: list[ColumnElement[bool]] = [Example.project_id == project_id]
    code = None
    if spec.status in ("pending", "approved", "rejected"):
        conditions.append(Example.status == spec.status)
    else:
        conditions.append(
            Example.status.in_(
                [ExampleStatus.PENDING, ExampleStatus.APPROVED, ExampleStatus.REJECTED]
            )
        )
    if spec.code:
        # Only examples with findings (a partial index holds them), then the code inside their
        # stored JSON (bounded by quotes so "pii_phone" never matches "pii_phone_x").
        conditions.append(HAS_FINDINGS)
        code = _has_code(Example.issues, spec.code)
    simple = {
        Example.author_id: spec.author_id,
        Example.upload_id: spec.upload_id,
        Example.dataset_id: spec.dataset_id,
        Example.tag: spec.tag or None,
        Example.origin: spec.origin or None,
    }
    conditions.extend(column == value for column, value in simple.items() if value is not None)
    if spec.submitted_from:
        conditions.append(Example.submitted_at >= _day_start(spec.submitted_from))
    if spec.submitted_to:
        conditions.append(Example.submitted_at < _day_start(spec.submitted_to + timedelta(days=1)))
    return conditions, code


def _has_code(issues: Any, code: str) -> ColumnElement[bool]:
    """The stored findings (JSON) name ``code`` (bounded by quotes: "pii_phone" never matches
    "pii_phone_x")."""
    safe = "".join(ch for ch in code if ch.isalnum() or ch == "_")[:40]
    return cast(issues, Text).contains(f'"{safe}"')


@dataclass
class TablePage:
    examples: list[Example]
    total: int  # capped at COUNT_CAP + 1
    next_cursor: int | None
    prev_cursor: int | None
    approvals: dict[int, int] = field(default_factory=dict)
    total_is_lower_bound: bool = False  # a code filter counted only the first candidates

    @property
    def total_is_capped(self) -> bool:
        return self.total > COUNT_CAP


def _page_rows(
    session: Session,
    conditions: list[ColumnElement[bool]],
    code: ColumnElement[bool] | None,
    ascending: bool,
    limit: int,
) -> list[Example]:
    """The first ``limit`` examples in id order. With a finding code, ids are read in chunks
    from the (partial) index in order and only those chunks are searched for the code: the
    planner cannot estimate the code's selectivity, and would otherwise read every example
    with findings before sorting."""
    order = Example.id.asc() if ascending else Example.id.desc()
    if code is None:
        query = select(Example).where(and_(*conditions)).order_by(order).limit(limit)
        return list(session.scalars(query))
    found: list[Example] = []
    cursor: int | None = None
    while len(found) < limit:
        ids_query = select(Example.id).where(and_(*conditions)).order_by(order).limit(ID_CHUNK)
        if cursor is not None:
            ids_query = ids_query.where(Example.id > cursor if ascending else Example.id < cursor)
        ids = list(session.scalars(ids_query))
        if not ids:
            break
        chunk = select(Example).where(Example.id.in_(ids), code).order_by(order)
        found.extend(session.scalars(chunk))
        cursor = ids[-1]
        if len(ids) < ID_CHUNK:
            break
    return found[:limit]


def table_page(
    session: Session,
    *,
    project_id: int,
    spec: TableFilter,
    after: int | None = None,
    before: int | None = None,
) -> TablePage:
    """One page of the table view (keyset pagination on id: fast on page 1 and page 2,000)."""
    conditions, code = table_conditions(project_id, spec)
    ascending = not spec.newest_first
    page_conditions = list(conditions)
    if after is not None:
        page_conditions.append(Example.id > after if ascending else Example.id < after)
    if before is not None:
        page_conditions.append(Example.id < before if ascending else Example.id > before)
        ascending = not ascending  # read backwards from the cursor, then turn the page round
    rows = _page_rows(session, page_conditions, code, ascending, PAGE_SIZE + 1)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if before is not None:
        rows.reverse()
    total, lower_bound = _count(session, conditions, spec.code)
    has_next = more if before is None else True
    has_prev = (after is not None) or (before is not None and more)
    return TablePage(
        examples=rows,
        total=total,
        next_cursor=rows[-1].id if rows and has_next else None,
        prev_cursor=rows[0].id if rows and has_prev else None,
        approvals=approvals_so_far(session, examples=rows),
        total_is_lower_bound=lower_bound,
    )


def _count(session: Session, conditions: list[ColumnElement[bool]], code: str) -> tuple[int, bool]:
    """How many examples match (up to COUNT_CAP + 1). With a finding code only the first
    CODE_COUNT_SCAN examples with findings are searched (the rest would mean reading every
    one of them): the figure is then a lower bound, and said to be one."""
    if not code:
        counted = select(Example.id).where(and_(*conditions)).limit(COUNT_CAP + 1).subquery()
        return session.scalar(select(func.count()).select_from(counted)) or 0, False
    candidates = (
        select(Example.issues)
        .where(and_(*conditions))
        .order_by(Example.id)
        .limit(CODE_COUNT_SCAN)
        .subquery()
    )
    matching = case((_has_code(candidates.c.issues, code), 1), else_=0)
    scanned, matches = session.execute(
        select(func.count(), func.coalesce(func.sum(matching), 0)).select_from(candidates)
    ).one()
    return int(matches), int(scanned) >= CODE_COUNT_SCAN


def approvals_so_far(session: Session, *, examples: Sequence[Example]) -> dict[int, int]:
    """Approvals each example's current revision has collected (for "1 of 2" badges)."""
    pending = [e for e in examples if e.status == ExampleStatus.PENDING]
    if not pending:
        return {}
    revision_of = {e.id: e.revision for e in pending}
    rows = session.execute(
        select(ReviewDecision.example_id, ReviewDecision.revision, func.count())
        .where(
            ReviewDecision.example_id.in_(list(revision_of)),
            ReviewDecision.decision == Decision.APPROVE,
        )
        .group_by(ReviewDecision.example_id, ReviewDecision.revision)
    ).all()
    return {eid: n for eid, rev, n in rows if revision_of.get(eid) == rev}
