"""Test and demo controls: queued faults, per-route request counters, a request log, and the
emulator's runtime settings. Driven through ``/_emulator/…`` (JSON) by tests and by TuneDesk's
admin page ``/admin/emulator``.

A fault matches a route by name (``tuning.get``), by prefix (``tuning.*``) or everything
(``*``) and is used up after ``count`` matching requests:
- ``error``: answer with ``status`` (and ``Retry-After`` if given) instead of doing the work;
- ``slow``: wait ``delay_ms`` first (clients with a shorter timeout give up);
- ``fail_job``: only for ``tuning.create`` — the job is created but fails halfway through tuning.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_KINDS = ("error", "slow", "fail_job")
ROUTE_NAMES = (
    "tuning.create",
    "tuning.get",
    "tuning.list",
    "tuning.cancel",
    "models.get",
    "models.update",
    "generate",
    "count_tokens",
    "storage.upload",
    "storage.upload_chunk",
    "storage.bucket",
    "storage.object",
    "storage.delete",
    "metrics.context",
    "metrics.contexts",
    "metrics.tensorboard",
    "metrics.run",
    "metrics.time_series",
    "metrics.batch_read",
    "metrics.read",
)
LOG_SIZE = 2000


class ControlError(ValueError):
    """A control request that makes no sense; the message says what to fix."""


@dataclass
class Fault:
    route: str
    kind: str = "error"
    status: int = 500
    retry_after: float | None = None
    delay_ms: int = 0
    count: int = 1
    message: str = ""
    used: int = 0

    def matches(self, route: str) -> bool:
        if self.route in ("*", route):
            return True
        return self.route.endswith("*") and route.startswith(self.route[:-1])


def parse_fault(payload: dict[str, Any]) -> Fault:
    route = str(payload.get("route", "")).strip()
    kind = str(payload.get("kind", "error"))
    if not route:
        raise ControlError("route is required (a route name such as tuning.get, or *).")
    if kind not in FAULT_KINDS:
        raise ControlError(f"kind must be one of {', '.join(FAULT_KINDS)}.")
    try:
        status = int(payload.get("status", 500))
        retry_after = payload.get("retry_after")
        fault = Fault(
            route=route,
            kind=kind,
            status=status,
            retry_after=None if retry_after in (None, "") else float(retry_after),
            delay_ms=int(payload.get("delay_ms", 0) or 0),
            count=int(payload.get("count", 1)),
            message=str(payload.get("message", "") or ""),
        )
    except (TypeError, ValueError):
        raise ControlError("status, retry_after, delay_ms and count must be numbers.") from None
    if kind == "error" and not 400 <= status <= 599:
        raise ControlError("status must be an HTTP error status (400-599).")
    if fault.count < 1 or fault.delay_ms < 0:
        raise ControlError("count must be at least 1 and delay_ms cannot be negative.")
    if kind == "fail_job" and route != "tuning.create":
        raise ControlError("fail_job faults apply to the route tuning.create.")
    return fault


@dataclass
class RuntimeSettings:
    time_scale: float
    latency_ms: int = 0  # added to every API request (benchmarks)
    max_example_tokens: int | None = None  # overrides each model's limit (tests of truncation)
    required_token: str | None = None  # if set, other bearer tokens get 401


@dataclass
class Controls:
    settings: RuntimeSettings
    faults: list[Fault] = field(default_factory=list)
    counters: Counter[str] = field(default_factory=Counter)
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=LOG_SIZE))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, route: str, entry: dict[str, Any]) -> None:
        with self.lock:
            self.counters[route] += 1
            self.log.append(entry)

    def take(self, route: str, kinds: tuple[str, ...]) -> Fault | None:
        """Use up one matching fault of the given kinds, oldest first."""
        with self.lock:
            for fault in self.faults:
                if fault.kind in kinds and fault.matches(route) and fault.used < fault.count:
                    fault.used += 1
                    if fault.used >= fault.count:
                        self.faults.remove(fault)
                    return fault
            return None

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def clear(self, *, faults: bool = True, counters: bool = True) -> None:
        with self.lock:
            if faults:
                self.faults.clear()
            if counters:
                self.counters.clear()
                self.log.clear()

    def update_settings(self, payload: dict[str, Any]) -> None:
        try:
            if "time_scale" in payload:
                scale = float(payload["time_scale"])
                if scale < 0:
                    raise ControlError("time_scale cannot be negative.")
                self.settings.time_scale = scale
            if "latency_ms" in payload:
                self.settings.latency_ms = max(0, int(payload["latency_ms"]))
            if "max_example_tokens" in payload:
                value = payload["max_example_tokens"]
                self.settings.max_example_tokens = None if value in (None, "") else int(value)
            if "required_token" in payload:
                self.settings.required_token = payload["required_token"] or None
        except (TypeError, ValueError):
            raise ControlError(
                "time_scale, latency_ms and max_example_tokens must be numbers."
            ) from None

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            settings = asdict(self.settings)
            settings["required_token"] = bool(settings["required_token"])  # never echo a secret
            return {
                "settings": settings,
                "faults": [asdict(f) for f in self.faults],
                "counters": dict(sorted(self.counters.items())),
            }

    def requests(self, route: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(e) for e in self.log if route is None or e["route"] == route]
