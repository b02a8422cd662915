"""`tunedesk run`: the web server, the Celery worker and beat as child processes of one command.

Children run in their own process groups so that one Ctrl-C reaches only this supervisor, which
then stops them in order (web first, so no new work arrives) and waits for each to exit. If any
child dies, the others are stopped too: a half-running TuneDesk is worse than a stopped one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from types import FrameType

STOP_TIMEOUT_SECONDS = 15


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def _start(child: Child, env: dict[str, str]) -> None:
    child.process = subprocess.Popen(child.argv, env=env, start_new_session=True)


def _stop(children: list[Child]) -> None:
    # SIGTERM to each main process only: Celery stops its own pool children (signalling the whole
    # group would kill them mid-task and stall the warm shutdown). Groups are killed only if late.
    for child in children:
        if child.process and child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{child.name} did not stop in time; killing it", file=sys.stderr)
            os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()


def supervise(children: list[Child], *, banner: str) -> int:
    env = dict(os.environ)
    stopping = False

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    for child in children:
        _start(child, env)
    print(banner, flush=True)
    exit_code = 0
    while not stopping:
        for child in children:
            assert child.process is not None
            code = child.process.poll()
            if code is not None:
                print(f"{child.name} exited with code {code}; stopping TuneDesk", file=sys.stderr)
                exit_code = code or 1
                stopping = True
                break
        time.sleep(0.3)
    print("Stopping TuneDesk…", flush=True)
    _stop(children)
    print("Stopped.", flush=True)
    return exit_code
