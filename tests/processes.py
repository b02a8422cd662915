"""Real background processes for tests: a Celery worker, beat, and an SMTP server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from tests.support import free_port, wait_for

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class ManagedProcess:
    """A TuneDesk sub-command (``python -m app …``) with its output captured to a file."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, ready_text: str | None = None, timeout: float = 30) -> ManagedProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", *self.args],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if ready_text:
            wait_for(
                lambda: ready_text in self.output() or self._died(),
                timeout=timeout,
                message=f"{self.name} to start",
            )
            assert not self._died(), f"{self.name} exited early:\n{self.output()[-3000:]}"
        return self

    def _died(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 15) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM to the main process only, as the supervisor and ``docker stop`` send it (a
        Celery worker then stops its own pool children); waits and returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL the whole process group: what a crashed machine looks like to TuneDesk."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def worker(
    env: dict[str, str], log_dir: Path, name: str = "worker", pool: str = "solo"
) -> ManagedProcess:
    # Solo pool by default: one process, so a SIGKILL test kills exactly the process doing the
    # work. Prefork (one child) is what production runs.
    args = ["run-worker", "--pool", pool, "--concurrency", "1", "--loglevel", "INFO"]
    return ManagedProcess(name, args, env, log_dir / f"{name}.log")


def beat(env: dict[str, str], log_dir: Path) -> ManagedProcess:
    return ManagedProcess("beat", ["run-beat", "--loglevel", "INFO"], env, log_dir / "beat.log")


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        # The modern policy decodes headers (a Japanese subject arrives RFC 2047-encoded).
        self.messages.append(message_from_bytes(envelope.content, policy=email_policy.default))
        return "250 OK"


class SmtpServer:
    """A real SMTP server on localhost collecting every message it receives."""

    def __init__(self) -> None:
        self.inbox = _Inbox()
        self.port = free_port()
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._controller.stop()

    @property
    def messages(self) -> list[Message]:
        return self.inbox.messages

    def wait_for_subject(self, subject: str, timeout: float = 30) -> Message:
        found: Message = wait_for(
            lambda: next((m for m in self.messages if m["Subject"] == subject), None),
            timeout=timeout,
            message=f"an e-mail with subject {subject!r}",
        )
        return found


def wait_until(deadline_seconds: float) -> float:
    return time.monotonic() + deadline_seconds
