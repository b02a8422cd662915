"""How fast the review queue pages answer with 100,000 examples in the project.

    .venv/bin/python bench/review_queue.py                       # SQLite, and PostgreSQL if set
    .venv/bin/python bench/review_queue.py --examples 20000 --repeat 15
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python ...

For each database (a fresh SQLite file; a fresh PostgreSQL database created next to
``BENCH_DATABASE_URL`` or ``TEST_DATABASE_URL``) it migrates, fills one project with the given
number of examples (70 % waiting, 25 % approved, 5 % returned; findings on about one in six;
ten tags, five authors, three uploads, submissions spread over 60 days, a decision row for every
decided example), then requests each review page through the real application (routing,
permission checks, queries, template rendering) as a reviewer and reports the median and 95th
percentile. Target: every page's median under 100 ms. Exits non-zero when a median misses it.
"""

from __future__ import annotations

import argparse
import atexit
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_VAR = tempfile.mkdtemp(prefix="tunedesk-bench-review-")
# The folder (logs, embedded broker, a SQLite database of up to ~100 MB) goes when the run
# ends, however it ends short of being killed.
atexit.register(shutil.rmtree, _VAR, ignore_errors=True)
os.environ.update(
    {
        "TUNEDESK_VAR_DIR": _VAR,
        "TUNEDESK_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "TUNEDESK_LOG_LEVEL": "WARNING",
        "TUNEDESK_BROKER_URL": f"sqla+sqlite:///{_VAR}/broker.sqlite3",
    }
)
for _name in ("DATABASE_URL", "TUNEDESK_DATABASE_URL"):
    os.environ.pop(_name, None)

from _scratch_database import scratch_database  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import create_engine, insert, select, text  # noqa: E402

from app import db as app_db  # noqa: E402
from app.auth.models import User  # noqa: E402
from app.auth.sessions import COOKIE_NAME, CSRF_HEADER, encode_session  # noqa: E402
from app.config import get_settings  # noqa: E402
from app.datasets.models import Dataset, Example, Upload  # noqa: E402
from app.main import create_app  # noqa: E402
from app.migrate import upgrade_head  # noqa: E402
from app.projects.models import Project, ProjectMember  # noqa: E402
from app.review.models import ReviewDecision, ReviewSettings  # noqa: E402

TARGET_MS = 100.0
TAGS = [
    "shipping",
    "returns",
    "billing",
    "account",
    "warranty",
    "stores",
    "coupons",
    "delivery-time",
    "gift",
    "membership",
]
JA = [
    "ご注文の商品は3営業日以内に発送いたします。",
    "返品は到着後14日以内に承ります。",
    "パスワードはログイン画面から再設定できます。",
    "ポイントは購入金額100円につき1ポイントです。",
]
EN = [
    "Orders ship within three business days.",
    "Returns are accepted within 14 days.",
    "You can reset your password from the sign-in page.",
    "Members earn one point per dollar.",
]
FINDINGS = [
    {
        "code": "pii_email",
        "severity": "warning",
        "column": "output",
        "params": {"field": "output"},
        "span": ["turns.1", 0, 12],
    },
    {
        "code": "near_duplicate",
        "severity": "warning",
        "column": None,
        "params": {"similarity": 0.91},
        "related_rows": [[2, ""]],
    },
    {
        "code": "whitespace",
        "severity": "warning",
        "column": "input",
        "params": {"field": "input"},
        "span": ["turns.0", 0, 1],
    },
    {
        "code": "conflict",
        "severity": "warning",
        "column": None,
        "params": {},
        "related_rows": [[7, ""]],
    },
]


def _rows(count: int, ids: dict[str, Any]) -> list[dict[str, Any]]:
    rng = random.Random(20261122)
    now = datetime.now(UTC)
    rows = []
    for n in range(count):
        pick = rng.random()
        status = "pending" if pick < 0.70 else "approved" if pick < 0.95 else "rejected"
        pool = JA if n % 3 else EN
        question = f"{rng.choice(pool)} ({n}) {rng.choice(pool)}"
        answer = " ".join(rng.choice(pool) for _ in range(3)) + f" #{n}"
        issues = [dict(rng.choice(FINDINGS), row=n + 2)] if n % 6 == 0 else []
        submitted = now - timedelta(minutes=rng.randrange(60 * 24 * 60))
        rows.append(
            {
                "project_id": ids["project"],
                "dataset_id": ids["datasets"][n % 2],
                "upload_id": ids["uploads"][n % 3],
                "source_row": n + 2,
                "origin": "upload",
                "system_instruction": "",
                "tag": TAGS[n % len(TAGS)],
                "split": None,
                "turns": [{"role": "user", "text": question}, {"role": "model", "text": answer}],
                "status": status,
                "content_hash": uuid.uuid4().hex,
                "prompt_hash": uuid.uuid4().hex,
                "token_estimate": len(question + answer),
                "issues": issues,
                "error_count": 0,
                "warning_count": len(issues),
                "author_id": ids["experts"][n % len(ids["experts"])],
                "revision": 1,
                "created_at": submitted,
                "updated_at": submitted,
                "submitted_at": submitted,
                "decided_at": submitted if status != "pending" else None,
            }
        )
    return rows


def _people(connection: Any) -> dict[str, Any]:
    def user(name: str) -> int:
        return int(
            connection.execute(
                insert(User)
                .values(
                    name=name,
                    email=f"{name.lower().replace(' ', '.')}@bench.example",
                    password_hash="x",
                    is_admin=False,
                    is_active=True,
                    session_epoch=0,
                    created_at=datetime.now(UTC),
                )
                .returning(User.id)
            ).scalar_one()
        )

    now = datetime.now(UTC)
    reviewer, manager = user("Rei Reviewer"), user("Mika Manager")
    experts = [user(f"Expert {i}") for i in range(5)]
    project = int(
        connection.execute(
            insert(Project)
            .values(name="Support replies", description="", system_instruction="", created_at=now)
            .returning(Project.id)
        ).scalar_one()
    )
    for member, role in [(reviewer, "reviewer"), (manager, "manager")] + [
        (e, "expert") for e in experts
    ]:
        connection.execute(
            insert(ProjectMember).values(
                project_id=project, user_id=member, role=role, created_at=now
            )
        )
    connection.execute(
        insert(ReviewSettings).values(
            project_id=project,
            approvals_required=1,
            auto_assign=True,
            lease_minutes=10,
            updated_at=now,
        )
    )
    datasets = [
        int(
            connection.execute(
                insert(Dataset)
                .values(
                    project_id=project,
                    name=f"FAQ {i}",
                    description="",
                    column_mapping={},
                    created_at=now,
                )
                .returning(Dataset.id)
            ).scalar_one()
        )
        for i in range(2)
    ]
    uploads = [
        int(
            connection.execute(
                insert(Upload)
                .values(
                    dataset_id=datasets[i % 2],
                    file_name=f"faq-{i}.csv",
                    format="csv",
                    sha256="0" * 64,
                    size_bytes=1,
                    stored_path="x",
                    mapping={},
                    status="ready",
                    rows_done=0,
                    counts={},
                    created_at=now,
                )
                .returning(Upload.id)
            ).scalar_one()
        )
        for i in range(3)
    ]
    return {
        "reviewer": reviewer,
        "manager": manager,
        "experts": experts,
        "project": project,
        "datasets": datasets,
        "uploads": uploads,
    }


def fill(url: str, count: int) -> dict[str, Any]:
    engine = create_engine(url)
    started = time.perf_counter()
    with engine.begin() as connection:
        ids = _people(connection)
        rows = _rows(count, ids)
        for start in range(0, len(rows), 5000):
            connection.execute(insert(Example), rows[start : start + 5000])
        decided = connection.execute(
            select(Example.id, Example.status, Example.submitted_at).where(
                Example.status != "pending"
            )
        ).all()
        decisions = [
            {
                "project_id": ids["project"],
                "example_id": i,
                "revision": 1,
                "reviewer_id": ids["reviewer"] if i % 2 else ids["manager"],
                "decision": "approve" if s == "approved" else "reject",
                "reason": "" if s == "approved" else "Outdated price.",
                "final": True,
                "created_at": at,
            }
            for i, s, at in decided
        ]
        for start in range(0, len(decisions), 5000):
            connection.execute(insert(ReviewDecision), decisions[start : start + 5000])
        if engine.dialect.name == "sqlite":
            connection.execute(text("ANALYZE"))
    if engine.dialect.name == "postgresql":
        # What autovacuum does on a live server: statistics and the visibility map (which lets
        # counts use index-only scans). A bulk load that was never vacuumed is not steady state.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    ids["fill_seconds"] = time.perf_counter() - started
    ids["count"] = count
    return ids


def _client(url: str, reviewer_id: int) -> TestClient:
    app_db.configure(url)
    client = TestClient(create_app(), base_url="http://bench")
    cookie = encode_session(
        get_settings().resolved_secret_key(), {"uid": reviewer_id, "epoch": 0, "csrf": "bench"}
    )
    client.cookies.set(COOKIE_NAME, cookie)
    client.headers[CSRF_HEADER] = "bench"
    return client


def _time(call: Callable[[], Any], repeat: int) -> list[float]:
    call()  # warm-up: template compilation, caches, first connection
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = call()
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code >= 400:
            raise SystemExit(f"{response.request.url} answered {response.status_code}")
    return timings


def measure(url: str, ids: dict[str, Any], repeat: int) -> list[tuple[str, list[float]]]:
    client = _client(url, ids["reviewer"])
    base = f"/projects/{ids['project']}/review"
    card_ids = [int(i) for i in text_ids(url, ids["project"], ids["count"])]
    cursor = {"i": 0}

    def next_card() -> Any:
        cursor["i"] = (cursor["i"] + 1) % len(card_ids)
        return client.get(f"{base}/examples/{card_ids[cursor['i']]}")

    today = datetime.now(UTC).date()
    pages: list[tuple[str, Callable[[], Any]]] = [
        ("queue landing", lambda: client.get(base)),
        (
            "start reviewing (claim + lease)",
            lambda: client.post(f"{base}/start", follow_redirects=False),
        ),
        ("card", next_card),
        (
            "card (HTMX navigation)",
            lambda: client.get(f"{base}/examples/{card_ids[0]}", headers={"HX-Request": "true"}),
        ),
        (
            "similar approved (card side panel)",
            lambda: client.get(
                f"{base}/examples/{card_ids[1]}/similar",
                headers={"HX-Request": "true", "HX-Target": "similar"},
            ),
        ),
        ("table: waiting", lambda: client.get(f"{base}/table")),
        ("table: finding = pii_email", lambda: client.get(f"{base}/table?code=pii_email")),
        ("table: author", lambda: client.get(f"{base}/table?author={ids['experts'][2]}")),
        (
            "table: upload + tag",
            lambda: client.get(f"{base}/table?upload={ids['uploads'][1]}&tag=billing"),
        ),
        (
            "table: last 7 days",
            lambda: client.get(f"{base}/table?from={today - timedelta(days=7)}&to={today}"),
        ),
        (
            "table: approved, newest first",
            lambda: client.get(f"{base}/table?status=approved&order=newest"),
        ),
        (
            "table: all filters",
            lambda: client.get(
                f"{base}/table?status=all&code=near_duplicate&author={ids['experts'][0]}"
                f"&tag=shipping&upload={ids['uploads'][0]}"
            ),
        ),
        ("table: deep page", lambda: client.get(f"{base}/table?after={card_ids[-1]}")),
        ("progress", lambda: client.get(f"{base}/progress")),
    ]
    results = [(name, _time(call, repeat)) for name, call in pages]
    client.close()
    return results


def text_ids(url: str, project_id: int, count: int) -> list[int]:
    """Pending examples a fifth of the way into the queue (not the easy first rows)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = (
            connection.execute(
                text(
                    "SELECT id FROM example WHERE project_id = :p AND status = 'pending' "
                    "ORDER BY id LIMIT 40 OFFSET :o"
                ),
                {"p": project_id, "o": count // 5},
            )
            .scalars()
            .all()
        )
    engine.dispose()
    return list(rows)


def _servers() -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = [("SQLite", None)]
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if server:
        found.append(("PostgreSQL", server))
    else:
        print("PostgreSQL skipped: set BENCH_DATABASE_URL or TEST_DATABASE_URL", file=sys.stderr)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=25)
    args = parser.parse_args()
    missed = False
    for label, server in _servers():
        with scratch_database(server, Path(_VAR)) as url:
            upgrade_head(url)
            ids = fill(url, args.examples)
            print(
                f"\n== {label}: {args.examples:,} examples (filled in {ids['fill_seconds']:.1f} s)"
            )
            print(f"{'page':<38} {'median ms':>10} {'p95 ms':>8}  verdict")
            for name, timings in measure(url, ids, args.repeat):
                median = statistics.median(timings)
                p95 = sorted(timings)[max(0, int(len(timings) * 0.95) - 1)]
                ok = median < TARGET_MS
                missed |= not ok
                print(f"{name:<38} {median:>10.1f} {p95:>8.1f}  {'ok' if ok else 'MISSES target'}")
    print(f"\nTarget: median under {TARGET_MS:.0f} ms per page.")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
