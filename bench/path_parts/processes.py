"""The application's processes for a bench run, started as ``tunedesk run`` starts them (web,
a worker with two children, beat), and their memory sampled while the steps run.

The worker is started through ``bench/_results_worker.py``: the same worker with Celery's result
backend switched on (a SQLite file in the run's folder), so the bench can read afterwards how
every task ended — a periodic task that failed while the big steps ran shows there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class Child:
    role: str
    process: subprocess.Popen[bytes]
    log: Path


def start(role: str, argv: list[str], env: dict[str, str], folder: Path) -> Child:
    log = folder / f"{role}.log"
    handle = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, *argv], cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT
    )
    return Child(role, process, log)


def stop(children: list[Child], timeout: float = 90.0) -> None:
    """SIGTERM to each main process (Celery stops its own pool children), then wait."""
    for child in children:
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.process.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()


def _children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        tree[int(fields[1])].append(int(entry))
    return tree


def _rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * PAGE_KIB / 1024
    except OSError:
        return 0.0


@dataclass
class Sampler:
    """Peak RSS per role and step: ``web``, ``worker`` (main process), ``worker child`` (the
    largest pool child), ``beat``; sampled every ``every`` seconds in a thread."""

    children: list[Child]
    every: float = 0.2
    step: str = "setup"
    peaks: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        tree = _children_of()
        peaks = self.peaks[self.step]
        for child in self.children:
            pid = child.process.pid
            values = {child.role: _rss_mib(pid)}
            if child.role == "worker":
                pool = [_rss_mib(c) for c in tree.get(pid, [])]
                values["worker child"] = max(pool, default=0.0)
            for role, value in values.items():
                peaks[role] = max(peaks.get(role, 0.0), value)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
