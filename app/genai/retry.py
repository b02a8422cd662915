"""Bounded retries with exponential backoff and jitter, honouring Retry-After.

The SDKs' own retries are switched off so that this is the only retry loop: one place decides
how long a call may take in total (``RetryPolicy.total_seconds``), each attempt gets the time that
is left as its timeout, and a create call is only repeated when the failure proves the request
was never processed (so a job is never created twice).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from app.genai.classify import classify
from app.genai.config import RetryPolicy
from app.genai.errors import TransientGeminiError

logger = logging.getLogger("tunedesk.genai")
T = TypeVar("T")
# Never start an attempt with less time than this left; it could not succeed.
MIN_ATTEMPT_SECONDS = 0.2


def backoff_delay(attempt: int, policy: RetryPolicy, retry_after: float | None) -> float:
    """Wait before retry number ``attempt`` (1 = first retry): exponential with jitter, at least
    what the server asked for, never more than ``max_delay``."""
    ceiling = min(policy.max_delay, policy.initial_delay * 2 ** (attempt - 1))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)  # "equal jitter": spread, never zero
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, policy.max_delay)


def call_with_retries(
    operation: Callable[[float], T],
    *,
    policy: RetryPolicy,
    what: str,
    context: Mapping[str, Any],
    creates: bool = False,
) -> T:
    """Run ``operation(timeout_seconds)``; retry transient failures within the policy.

    ``creates``: the call creates something remotely; it is repeated only after failures that
    prove nothing was created (429, 503, connection refused). Otherwise the error says so
    (``maybe_created``) and the caller looks the object up before trying again.
    """
    deadline = time.monotonic() + policy.total_seconds
    attempt = 0
    while True:
        attempt += 1
        remaining = deadline - time.monotonic()
        try:
            return operation(max(MIN_ATTEMPT_SECONDS, min(policy.timeout, remaining)))
        except Exception as raised:
            error = classify(raised, context)
            if not isinstance(error, TransientGeminiError):
                raise error from raised
            error.update(attempts=attempt)
            if creates and not error.safe_to_repeat:
                error.maybe_created = True
                status = error.http_status
                if status is not None and status >= 500:
                    # The server answered: nothing "broke" on the way (issue seen with a 500).
                    error.update("maybe_created_server", status=status)
                else:
                    error.update("maybe_created")
                raise error from raised
            delay = backoff_delay(attempt, policy, error.retry_after)
            out_of_time = time.monotonic() + delay + MIN_ATTEMPT_SECONDS > deadline
            if attempt >= policy.attempts or out_of_time:
                raise error from raised
            logger.warning("%s failed (%s); retry %d in %.1fs", what, error.raw, attempt, delay)
            time.sleep(delay)
