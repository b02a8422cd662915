"""An evaluation run at scale: 500 test questions × 3 candidates against the emulator.

``python bench/eval.py [--items 500] [--latency-ms 200] [--concurrency 8] [--database-url URL]``

Sets up, in a temporary directory: a fresh migrated database (SQLite, or a scratch database on
the PostgreSQL server of --database-url, dropped at the end), the offline emulator as its own
process, a dataset version with 100 training and ``--items`` test examples, and a tuning job
that really succeeded on the emulator. Then, with the emulator adding ``--latency-ms`` to every
request, it runs one evaluation (zero-shot, few-shot k=3 and the tuned model; no judge) with the
runner that the ``evaluations.run`` task calls, and prints: items, candidates, latency,
concurrency, wall time, the ideal time (items × candidates × latency ÷ concurrency) and their
ratio, which must stay within 1.2; and the emulator's generate requests (exactly one per
answer). ``--control`` also times the same number of bare SDK calls, which shows how much of the
ratio the machine and the SDK take before the runner does anything (on a busy machine the SDK's
own per-call CPU under the interpreter lock dominates).
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _scratch_database import add_database_option, scratch_database

WORK = Path(tempfile.mkdtemp(prefix="tunedesk-bench-eval-"))
# The folder (logs, embedded broker, a SQLite database of up to ~100 MB) goes when the run
# ends, however it ends short of being killed.
atexit.register(shutil.rmtree, WORK, ignore_errors=True)
TRAIN_EXAMPLES = 100
MAX_RATIO = 1.2
_WORDS = (
    *("parcel", "invoice", "refund", "voucher", "warranty", "kettle", "courier", "locker"),
    *("receipt", "subscription", "discount", "membership", "battery", "charger", "lantern"),
    *("backpack", "umbrella", "thermos", "tripod", "compass", "jacket", "helmet", "ladder"),
    *("drawer", "curtain", "pillow", "blanket", "toaster", "heater", "filter", "cartridge"),
)


def configure_environment(database_url: str, emulator_port: int, concurrency: int) -> None:
    os.environ.update(
        {
            "TUNEDESK_VAR_DIR": str(WORK),
            "DATABASE_URL": database_url,
            "TUNEDESK_BROKER_URL": f"sqla+sqlite:///{WORK}/broker.sqlite3",
            "TUNEDESK_TASK_QUEUE": f"bench-eval-{uuid.uuid4().hex[:8]}",
            "TUNEDESK_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
            "TUNEDESK_GEMINI_MODE": "emulator",
            "TUNEDESK_EMULATOR_HOST": "127.0.0.1",
            "TUNEDESK_EMULATOR_PORT": str(emulator_port),
            "TUNEDESK_EVAL_CONCURRENCY": str(concurrency),
            "TUNEDESK_LOG_LEVEL": "WARNING",
        }
    )


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def control(port: int, path: str, body: dict[str, Any] | None = None) -> Any:
    import httpx

    url = f"http://127.0.0.1:{port}{path}"
    response = httpx.post(url, json=body) if body is not None else httpx.get(url)
    response.raise_for_status()
    return response.json()


def wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


def sentence(n: int, kind: str) -> str:
    """A text unlike the others (no near duplicates, so no leakage between the splits)."""
    digest = hashlib.blake2b(f"{kind}:{n}".encode(), digest_size=8).digest()
    words = " ".join(_WORDS[b % len(_WORDS)] for b in digest)
    return f"{kind} {n}: what about the {words}?" if kind == "q" else f"#{n} {words}."


def create_version(items: int) -> tuple[Any, Any, Any]:
    """A project, a manager and a version with training and test examples."""
    from app.auth.models import User
    from app.datasets.editing import examples
    from app.datasets.models import Dataset, Example, ExampleStatus
    from app.datasets.versions.service import VersionRequest, create_version
    from app.db import new_session
    from app.projects.models import Project

    with new_session() as session:
        user = User(name="Bench", email="bench@example.com", password_hash="x")
        project = Project(name="Bench")
        session.add_all([user, project])
        session.flush()
        dataset = Dataset(project_id=project.id, name="Bench FAQ", column_mapping={})
        session.add(dataset)
        session.flush()
        for n in range(TRAIN_EXAMPLES + items):
            test = n >= TRAIN_EXAMPLES
            example = Example(
                project_id=project.id,
                dataset_id=dataset.id,
                origin="manual",
                turns=[
                    {"role": "user", "text": sentence(n, "q")},
                    {"role": "model", "text": sentence(n, "a")},
                ],
                split="test" if test else None,
                status=ExampleStatus.APPROVED,
                issues=[],
            )
            examples.recheck(example)
            session.add(example)
        session.flush()
        version = create_version(
            session, actor=user, dataset=dataset, request=VersionRequest(), acknowledge_leakage=True
        )
        session.commit()
        return project, user, version


def tuned_job(project: Any, version: Any) -> Any:
    from app.db import new_session, utcnow
    from app.genai import gateway
    from app.tuning import launch, sync
    from app.tuning.models import JobState, TuningJob

    with new_session() as session:
        job = TuningJob(
            project_id=project.id,
            dataset_version_id=version.id,
            base_model="gemini-3.5-flash",
            display_name="Bench tuned",
            hyperparameters={"epochs": 2},
            state=JobState.QUEUED,
            remote_label=uuid.uuid4().hex,
            queued_at=utcnow(),
            updated_at=utcnow(),
        )
        session.add(job)
        session.commit()
    if launch.launch(job.id) != "created":
        raise SystemExit("the tuning job could not be launched on the emulator")

    def succeeded() -> bool:
        with new_session() as session:
            row = session.get(TuningJob, job.id)
            assert row is not None and row.remote_name
            sync.apply(session, row, gateway.get_tuning(row.remote_name))
            session.commit()
            return row.state == JobState.SUCCEEDED

    wait(succeeded, 120, "the tuning job to succeed")
    return job


def create_evaluation(project: Any, user: Any, version: Any, job: Any) -> int:
    from app.db import new_session
    from app.evaluations import service
    from app.evaluations.models import CandidateKind
    from app.evaluations.schemas import CandidateSpec, EvaluationSpec

    spec = EvaluationSpec(
        name="Bench",
        test_version_id=version.id,
        candidates=(
            CandidateSpec(kind=CandidateKind.ZERO_SHOT, base_model="gemini-3.5-flash"),
            CandidateSpec(kind=CandidateKind.FEW_SHOT, base_model="gemini-3.5-flash", few_shot_k=3),
            CandidateSpec(kind=CandidateKind.TUNED, tuning_job_id=job.id),
        ),
    )
    with new_session() as session:
        evaluation = service.create_evaluation(session, project=project, actor=user, spec=spec)
        session.info.pop("tunedesk.pending_tasks", None)  # the bench runs it in this process
        session.commit()
        return evaluation.id


def run(options: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    database = options.database_url
    configure_environment(database, port, options.concurrency)
    emulator = subprocess.Popen(
        [
            *(sys.executable, "-m", "app", "emulator", "--port", str(port)),
            *("--time-scale", "5000", "--state-dir", str(WORK / "emu")),
        ],
        stdout=(WORK / "emulator.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait(lambda: _alive(port), 30, "the emulator")
        from app.migrate import upgrade_head

        upgrade_head(database)
        setup = time.perf_counter()
        project, user, version = create_version(options.items)
        job = tuned_job(project, version)
        evaluation_id = create_evaluation(project, user, version, job)
        setup_seconds = time.perf_counter() - setup
        control(port, "/_emulator/reset", {})
        control(port, "/_emulator/settings", {"latency_ms": options.latency_ms})
        report = measure(port, evaluation_id, options, setup_seconds)
        if options.control:
            report["sdk_only_ratio"] = sdk_only_ratio(options)
        return report
    finally:
        emulator.terminate()
        try:
            emulator.wait(timeout=20)
        except subprocess.TimeoutExpired:
            emulator.kill()


def measure(
    port: int, evaluation_id: int, options: argparse.Namespace, setup_seconds: float
) -> dict[str, Any]:
    from sqlalchemy import func, select

    from app.db import new_session
    from app.evaluations.models import EvalCandidate, EvalOutput, Evaluation
    from app.evaluations.running import runner

    started = time.perf_counter()
    outcome = runner.run_evaluation(evaluation_id)
    wall = time.perf_counter() - started
    with new_session() as session:
        evaluation = session.get(Evaluation, evaluation_id)
        assert evaluation is not None
        done, total = evaluation.outputs_done, evaluation.outputs_total
        latency = session.execute(
            select(EvalCandidate.kind, func.avg(EvalOutput.latency_ms))
            .join(EvalOutput, EvalOutput.candidate_id == EvalCandidate.id)
            .where(EvalCandidate.evaluation_id == evaluation_id)
            .group_by(EvalCandidate.kind)
        ).all()
    candidates = 3
    ideal = options.items * candidates * options.latency_ms / 1000 / options.concurrency
    return {
        "items": options.items,
        "candidates": candidates,
        "latency_ms": options.latency_ms,
        "concurrency": options.concurrency,
        "setup_seconds": round(setup_seconds, 1),
        "outcome": outcome,
        "outputs_done": done,
        "outputs_total": total,
        "wall_seconds": round(wall, 2),
        "ideal_seconds": round(ideal, 2),
        "ratio": round(wall / ideal, 3) if ideal else None,
        # Seen by the SDK: the emulator's latency plus HTTP, SDK and emulator processing.
        "mean_call_ms": {kind: round(float(ms or 0), 1) for kind, ms in latency},
        "generate_requests": control(port, "/_emulator/counters").get("generate", 0),
    }


def sdk_only_ratio(options: argparse.Namespace) -> float:
    """The same number of bare ``generate`` calls, same concurrency, nothing stored or scored:
    the floor this machine and the SDK allow (the runner's own cost is the difference)."""
    from concurrent.futures import ThreadPoolExecutor

    from app.genai import generation

    calls = options.items * 3

    def one(n: int) -> None:
        generation.generate(model="gemini-3.5-flash", turns=[("user", sentence(n, "q"))])

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=options.concurrency) as pool:
        list(pool.map(one, range(calls)))
    ideal = calls * options.latency_ms / 1000 / options.concurrency
    return round((time.perf_counter() - started) / ideal, 3)


def _alive(port: int) -> bool:
    try:
        control(port, "/_emulator/health")
    except Exception:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    add_database_option(parser)
    parser.add_argument(
        "--control", action="store_true", help="also time bare SDK calls (the machine's floor)"
    )
    options = parser.parse_args()
    with scratch_database(options.database_url or None, WORK) as options.database_url:
        report = run(options)
    print(json.dumps(report, indent=2))
    if report["outcome"] != "succeeded" or report["outputs_done"] != report["outputs_total"]:
        raise SystemExit("the evaluation did not complete")
    if report["generate_requests"] != report["outputs_total"]:
        raise SystemExit(
            f"{report['generate_requests']} generate requests for {report['outputs_total']} answers"
        )
    if report["ratio"] is not None and report["ratio"] > MAX_RATIO:
        raise SystemExit(f"wall time {report['ratio']}× the ideal (limit {MAX_RATIO}×)")


if __name__ == "__main__":
    main()
