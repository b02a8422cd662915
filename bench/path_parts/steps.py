"""The steps of the whole-path bench, each against the running application (HTTP) and reading
the database only to follow background work."""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = {"input_column": "質問", "output_column": "回答"}


@dataclass
class Team:
    project_id: int
    expert_id: int
    reviewer_id: int
    expert_epoch: int
    reviewer_epoch: int
    manager_id: int
    manager_epoch: int
    token: str
    dataset_id: int = 0


def seed(url: str) -> Team:
    """An expert (uploads), a reviewer (approves) and a manager, in one project."""
    import app.all_models  # noqa: F401
    from app import db
    from app.auth.models import User
    from app.auth.service import create_api_token
    from app.projects.models import Project, ProjectMember

    db.configure(url)
    with db.task_session() as session:
        people = {}
        for role in ("expert", "reviewer", "manager"):
            user = User(name=f"Bench {role}", email=f"{role}@bench.example", password_hash="x")
            session.add(user)
            people[role] = user
        project = Project(name="Bench", description="", system_instruction="")
        session.add(project)
        session.flush()
        for role, user in people.items():
            session.add(ProjectMember(project_id=project.id, user_id=user.id, role=role))
        _token, plain = create_api_token(session, user=people["expert"], name="bench")
        session.flush()
        return Team(
            project.id,
            people["expert"].id,
            people["reviewer"].id,
            people["expert"].session_epoch,
            people["reviewer"].session_epoch,
            people["manager"].id,
            people["manager"].session_epoch,
            plain,
        )


class Client:
    """An HTTP client logged in as the reviewer (pages) with the expert's API token."""

    def __init__(self, base: str, team: Team, env: dict[str, str]) -> None:
        self.secret = env["TUNEDESK_SECRET_KEY"]
        self.http = httpx.Client(base_url=base, timeout=600)
        self.api = {"Authorization": f"Bearer {team.token}"}
        self.log_in(team.reviewer_id, team.reviewer_epoch)

    def log_in(self, user_id: int, epoch: int) -> None:
        from app.auth.sessions import COOKIE_NAME, CSRF_HEADER, encode_session

        csrf = secrets.token_urlsafe(16)
        cookie = encode_session(self.secret, {"uid": user_id, "epoch": epoch, "csrf": csrf})
        self.http.cookies.clear()
        self.http.cookies.set(COOKIE_NAME, cookie)
        self.http.headers[CSRF_HEADER] = csrf

    def wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.http.get("/healthz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise SystemExit("the web server did not start")


def cli_check(data: Path, env: dict[str, str]) -> dict[str, float]:
    """``tunedesk check`` of the same file in a fresh process: wall time and peak RSS."""
    argv = [sys.executable, "-m", "app", "check", str(data), "--format", "json"]
    argv += ["--input-column", COLUMNS["input_column"], "--output-column", COLUMNS["output_column"]]
    started = time.monotonic()
    with open(os.devnull, "wb") as sink:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=sink)
        _pid, _status, usage = os.wait4(process.pid, 0)
    return {"wall": time.monotonic() - started, "peak_mib": usage.ru_maxrss / 1024}


def _engine(url: str) -> Any:
    return create_engine(url)


def upload_and_check(client: Client, url: str, team: Team, data: Path) -> dict[str, Any]:
    """From the first byte sent to the dataset imported and checked."""
    base = f"/api/v1/projects/{team.project_id}/datasets"
    started = time.monotonic()
    created = client.http.post(base, json={"name": "Big dataset"}, headers=client.api)
    team.dataset_id = created.json()["id"]
    with data.open("rb") as handle:
        sent = client.http.post(
            f"{base}/{team.dataset_id}/uploads",
            files={"file": (data.name, handle, "text/csv")},
            data=COLUMNS,
            headers=client.api,
        )
    assert sent.status_code == 202, sent.text
    upload_id = sent.json()["id"]
    engine = _engine(url)
    while True:
        with engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT u.status, d.check_status FROM upload u JOIN dataset d "
                    "ON d.id = u.dataset_id WHERE u.id = :id"
                ),
                {"id": upload_id},
            ).one()
        if row[0] == "failed":
            raise SystemExit("the import failed")
        if row[0] == "ready" and row[1] == "current":
            break
        time.sleep(0.1)
    seconds = time.monotonic() - started
    with engine.connect() as connection:
        queued, began = connection.execute(
            text("SELECT queued_at, started_at FROM upload WHERE id = :id"), {"id": upload_id}
        ).one()
    engine.dispose()
    return {"seconds": seconds, "queued_s": _seconds_between(queued, began)}


def _seconds_between(first: Any, second: Any) -> float:
    from datetime import datetime

    if isinstance(first, str):
        first, second = datetime.fromisoformat(first), datetime.fromisoformat(second)
    return float((second - first).total_seconds())


def approve_all(client: Client, url: str, team: Team) -> dict[str, Any]:
    started = time.monotonic()
    response = client.http.post(
        f"/projects/{team.project_id}/review/approve-all",
        data={"dataset": str(team.dataset_id)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:500]
    run_id = int(response.headers["location"].rsplit("/", 1)[1])
    engine = _engine(url)
    samples: list[tuple[float, int]] = []
    query = text(
        "SELECT status, processed, total, approved, waiting, own, conflicts, moved "
        "FROM review_bulk_run WHERE id = :id"
    )
    while True:
        with engine.connect() as connection:
            row = connection.execute(query, {"id": run_id}).one()
        samples.append((time.monotonic(), int(row[1])))
        if row[0] in ("done", "failed"):
            break
        time.sleep(0.25)
    engine.dispose()
    seconds = time.monotonic() - started
    total = int(row[2])
    first, last = _tenth(samples, total, 0.0, 0.1), _tenth(samples, total, 0.9, 1.0)
    return {
        "seconds": seconds,
        "status": row[0],
        "approved": int(row[3]) + int(row[4]),
        "refused": {"own": row[5], "conflicts": row[6], "moved": row[7]},
        "first_tenth_s": first,
        "last_tenth_s": last,
        "flatness": last / first if first else float("inf"),
    }


def _time_at(samples: list[tuple[float, int]], processed: float) -> float:
    """When ``processed`` examples were done (linear between the two samples around it)."""
    previous = samples[0]
    for sample in samples:
        if sample[1] >= processed:
            if sample[1] == previous[1]:
                return sample[0]
            share = (processed - previous[1]) / (sample[1] - previous[1])
            return previous[0] + share * (sample[0] - previous[0])
        previous = sample
    return samples[-1][0]


def _tenth(samples: list[tuple[float, int]], total: int, low: float, high: float) -> float:
    # Measured from the first chunk done, so the wait for a worker is not counted as cost.
    start = next((s for s in samples if s[1] > 0), samples[-1])
    shifted = [s for s in samples if s[0] >= start[0]]
    return _time_at(shifted, max(start[1], high * total)) - _time_at(
        shifted, max(start[1], low * total)
    )


def create_version(client: Client, url: str, team: Team) -> dict[str, Any]:
    """From the form's submission to the version's existence, probing the datasets list."""
    client.log_in(team.manager_id, team.manager_epoch)
    started = time.monotonic()
    form = {
        "dataset_id": str(team.dataset_id),
        "note": "bench",
        "kind": "full",
        "seed": "42",
        "validation_percent": "10",
        "acknowledge": "true",
    }
    response = client.http.post(
        f"/projects/{team.project_id}/versions", data=form, follow_redirects=False
    )
    request_s = time.monotonic() - started
    location = response.headers.get("location", "")
    match = re.search(r"/builds/(\d+)$", location)
    if response.status_code != 303 or not match:
        raise SystemExit(f"creating the version answered {response.status_code} ({location})")
    probes: list[float] = []
    engine = _engine(url)
    while match:
        with engine.connect() as connection:
            status, _version = connection.execute(
                text("SELECT status, version_id FROM dataset_version_build WHERE id = :id"),
                {"id": int(match.group(1))},
            ).one()
        if status in ("done", "failed"):
            if status == "failed":
                raise SystemExit("the version build failed")
            break
        probe = time.monotonic()
        client.http.get(f"/projects/{team.project_id}/datasets")
        probes.append((time.monotonic() - probe) * 1000)
        time.sleep(0.5)
    seconds = time.monotonic() - started
    with engine.connect() as connection:
        examples = connection.execute(
            text("SELECT count(*) FROM dataset_version_example")
        ).scalar_one()
    engine.dispose()
    return {
        "seconds": seconds,
        "request_s": request_s,
        "examples": int(examples),
        "probe_median_ms": statistics.median(probes) if probes else 0.0,
        "probe_max_ms": max(probes, default=0.0),
    }


def _timed(client: Client, path: str, repeat: int, target: str | None = None) -> dict[str, float]:
    headers = {"HX-Request": "true", "HX-Target": target} if target else {}
    client.http.get(path, headers=headers)  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.http.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    ordered = sorted(times)
    return {"median": statistics.median(ordered), "p95": ordered[int(0.95 * (len(ordered) - 1))]}


def pages(client: Client, team: Team, repeat: int) -> dict[str, dict[str, float]]:
    base = f"/projects/{team.project_id}/datasets"
    report = f"{base}/{team.dataset_id}"
    return {
        "datasets list": _timed(client, base, repeat),
        "dataset report (full page)": _timed(client, report, repeat),
        "report summary fragment": _timed(client, report, repeat, "summary"),
        "rows fragment, problems p.2": _timed(client, f"{report}?page=2", repeat, "rows"),
        "rows page, all rows p.100": _timed(client, f"{report}?show=all&page=100", repeat),
        "review table": _timed(client, f"/projects/{team.project_id}/review/table", repeat),
    }


def _download(client: Client, path: str, headers: dict[str, str]) -> dict[str, float]:
    started = time.perf_counter()
    first = 0.0
    size = 0
    with client.http.stream("GET", path, headers=headers) as response:
        assert response.status_code == 200, (path, response.status_code)
        for chunk in response.iter_raw():
            if not first:
                first = time.perf_counter() - started
            size += len(chunk)
    return {
        "first_byte_ms": first * 1000,
        "total_s": time.perf_counter() - started,
        "mib": size / 2**20,
    }


def downloads(client: Client, url: str, team: Team) -> dict[str, dict[str, float]]:
    engine = _engine(url)
    with engine.connect() as connection:
        version_id = connection.execute(text("SELECT max(id) FROM dataset_version")).scalar_one()
    engine.dispose()
    api = f"/api/v1/projects/{team.project_id}"
    return {
        "JSON dataset report (API)": _download(
            client, f"{api}/datasets/{team.dataset_id}/report", client.api
        ),
        "OpenAI training file (API)": _download(
            client, f"{api}/versions/{version_id}/files/train?format=openai", client.api
        ),
        "findings CSV (page)": _download(
            client, f"/projects/{team.project_id}/datasets/{team.dataset_id}/findings.csv", {}
        ),
    }


def task_outcomes(results: Path, worker_log: Path) -> dict[str, Any]:
    """How every periodic task ended, from the worker's result backend: its failures (the
    target is none) and how often one retried (read from the worker's log)."""
    from app.worker import BEAT_SCHEDULE

    periodic = sorted({entry["task"] for entry in BEAT_SCHEDULE.values()})
    marks = ",".join("?" for _ in periodic)
    with sqlite3.connect(results) as connection:
        rows = connection.execute(
            f"SELECT name, status, count(*) FROM celery_taskmeta WHERE name IN ({marks}) "
            "GROUP BY name, status",
            periodic,
        ).fetchall()
    failed = {name: count for name, status, count in rows if status == "FAILURE"}
    runs = sum(count for _name, _status, count in rows)
    log = worker_log.read_text(errors="replace") if worker_log.exists() else ""
    return {"periodic_runs": runs, "failed": failed, "retries": log.count(" retry: Retry in ")}
