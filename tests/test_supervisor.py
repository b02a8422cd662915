"""`tunedesk run` (what `make run` starts): web, worker and beat come up; one Ctrl-C stops all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.cli import port_problem
from tests.support import free_port, wait_for

pytestmark = pytest.mark.worker


def _descendants(pid: int) -> set[int]:
    table = subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True, text=True, check=True)
    children: dict[int, list[int]] = {}
    for line in table.stdout.splitlines():
        child, parent = (int(value) for value in line.split())
        children.setdefault(parent, []).append(child)
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose; ps shows it as state Z.
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True)
    return bool(state.stdout.strip()) and not state.stdout.strip().startswith("Z")


def test_run_starts_everything_and_one_interrupt_stops_it(tmp_path: Path) -> None:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "TUNEDESK_BROKER_URL", "REDIS_URL")
    }
    env.update(
        {
            "TUNEDESK_VAR_DIR": str(tmp_path),
            "TUNEDESK_TASK_QUEUE": "supervisor-test",
            "TUNEDESK_LOG_LEVEL": "INFO",
        }
    )
    log = (tmp_path / "run.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "run", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output = tmp_path / "run.log"
    try:

        def setup_page_served() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/setup", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(setup_page_served, timeout=60, message="the setup page")
        wait_for(lambda: "ready." in output.read_text(), timeout=30, message="the worker")
        wait_for(lambda: "beat: Starting" in output.read_text(), timeout=30, message="beat")
        assert f"http://127.0.0.1:{port}" in output.read_text()
        children = _descendants(process.pid)
        assert len(children) >= 3  # web, worker (and its pool), beat
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        assert process.wait(timeout=30) == 0
        wait_for(
            lambda: not any(_alive(pid) for pid in children),
            timeout=10,
            message="every child process to exit",
        )
        assert "Stopped." in output.read_text()
        assert "did not stop in time" not in output.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_a_busy_port_is_refused_before_anything_starts() -> None:
    port = free_port()
    clash = port_problem("127.0.0.1", port, emulator_port=port)
    assert clash is not None and "emulator" in clash and "PORT=9000" in clash
    assert port_problem("127.0.0.1", port, emulator_port=port + 1) is None
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        busy = port_problem("127.0.0.1", port, emulator_port=None)
    assert busy is not None and f"Port {port} on 127.0.0.1 is already in use" in busy
