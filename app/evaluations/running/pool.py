"""Bounded concurrency for a run's model calls, with a claim kept alive while they go on.

``drive`` keeps at most ``concurrency`` calls in flight (one thread each; each thread opens its
own database session). A call that hit a transient error (quota, outage) after the gateway's own
retries returns ``Deferred``: nothing new is sent for at least the server's Retry-After (a quota
is the project's, not one question's), then that work is tried again with the rest. After
``MAX_DEFERRALS`` it is given up (the caller records why) instead of holding the run forever.

``Lease`` is the run's claim (``Evaluation.claimed_until``), renewed as a heartbeat from the loop;
when the renewal finds the run no longer ours (cancelled, or another worker took over after our
claim expired) the loop stops sending new calls and lets the in-flight ones finish. It does the
same when the worker is asked to stop (``app.shutdown``): the calls in flight finish and are
saved, and the caller puts the run back in the queue, so nothing already sent is lost.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, update

from app import shutdown
from app.db import rows_affected, task_session, utcnow
from app.evaluations.models import EvalStatus, Evaluation
from app.genai.errors import TransientGeminiError

logger = logging.getLogger("tunedesk.evaluations")
W = TypeVar("W")

# A dead worker's run is taken over once its claim is this old; renewed every HEARTBEAT.
LEASE = timedelta(seconds=20)
HEARTBEAT_SECONDS = 4.0
MAX_DEFERRALS = 6
MIN_DEFER_SECONDS = 2.0
MAX_DEFER_SECONDS = 120.0
TICK_SECONDS = 0.25


class Drive(StrEnum):
    """How ``drive`` ended."""

    DONE = "done"  # every work was called
    LOST = "lost"  # the run is no longer ours (cancelled, or taken over)
    PAUSED = "paused"  # the worker is stopping; the rest waits for the next worker


@dataclass(frozen=True)
class Deferred:
    """Try this work again in ``delay`` seconds (a transient failure)."""

    delay: float
    error: TransientGeminiError


def defer(error: TransientGeminiError, deferrals: int) -> Deferred:
    backoff = min(MAX_DEFER_SECONDS, MIN_DEFER_SECONDS * 2**deferrals)
    return Deferred(max(backoff, error.retry_after or 0.0), error)


class Lease:
    """This worker's claim on a running evaluation (``attempt`` tells claims apart)."""

    def __init__(self, evaluation_id: int, attempt: int) -> None:
        self.evaluation_id = evaluation_id
        self.attempt = attempt
        self.renewed = time.monotonic()
        self.lost = False

    def owned(self) -> tuple[ColumnElement[bool], ...]:
        """The WHERE clause of every write that only this claim may make."""
        return (
            Evaluation.id == self.evaluation_id,
            Evaluation.status == EvalStatus.RUNNING,
            Evaluation.attempts == self.attempt,
        )

    def renew(self, force: bool = False) -> bool:
        """Extend the claim (at most every HEARTBEAT); False once the run is not ours."""
        if self.lost:
            return False
        if not force and time.monotonic() - self.renewed < HEARTBEAT_SECONDS:
            return True
        with task_session() as session:
            result = session.execute(
                update(Evaluation).where(*self.owned()).values(claimed_until=utcnow() + LEASE)
            )
            self.lost = rows_affected(result) != 1
        self.renewed = time.monotonic()
        return not self.lost


@dataclass
class _Waiting(Generic[W]):
    due: float
    work: W
    deferrals: int
    error: TransientGeminiError


def drive(
    works: Sequence[W],
    call: Callable[[W, int], Deferred | None],
    give_up: Callable[[W, TransientGeminiError], None],
    *,
    lease: Lease,
    concurrency: int,
) -> Drive:
    """Run ``call(work, deferrals)`` for every work. When the run stops being ours or the worker
    is stopping, nothing new is sent and the calls in flight finish before this returns."""
    ready: deque[tuple[W, int]] = deque((work, 0) for work in works)
    waiting: list[_Waiting[W]] = []
    in_flight: dict[Future[Deferred | None], tuple[W, int]] = {}
    # A quota error concerns the whole project: nothing new is sent before this moment.
    paused_until = 0.0
    left_behind = False
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="eval") as pool:
        while ready or waiting or in_flight:
            if (not lease.renew() or shutdown.requested()) and (ready or waiting):
                ready.clear()
                waiting.clear()
                left_behind = True
            now = time.monotonic()
            for entry in [w for w in waiting if w.due <= now]:
                waiting.remove(entry)
                ready.append((entry.work, entry.deferrals))
            while ready and len(in_flight) < concurrency and now >= paused_until:
                work, deferrals = ready.popleft()
                in_flight[pool.submit(call, work, deferrals)] = (work, deferrals)
            if not in_flight:
                time.sleep(TICK_SECONDS)
                continue
            done, _pending = wait(in_flight, timeout=TICK_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                work, deferrals = in_flight.pop(future)
                due = _settle(future, work, deferrals, waiting, give_up)
                paused_until = max(paused_until, due or 0.0)
    if lease.lost:
        return Drive.LOST
    return Drive.PAUSED if left_behind else Drive.DONE


def _settle(
    future: Future[Deferred | None],
    work: W,
    deferrals: int,
    waiting: list[_Waiting[W]],
    give_up: Callable[[W, TransientGeminiError], None],
) -> float | None:
    """Handle one finished call; returns until when to pause after a transient failure."""
    outcome = future.result()  # calls record their own failures; anything else is a bug
    if outcome is None:
        return None
    if deferrals + 1 >= MAX_DEFERRALS:
        give_up(work, outcome.error)
        return None
    logger.info("deferring calls by %.1fs: %s", outcome.delay, outcome.error)
    due = time.monotonic() + outcome.delay
    waiting.append(_Waiting(due, work, deferrals + 1, outcome.error))
    return due
