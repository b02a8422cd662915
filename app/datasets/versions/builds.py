"""Creating a version in the background: the page records what was asked (a
:class:`~app.datasets.versions.models.VersionBuild`) and follows it; the
``datasets.build_version`` task claims it (compare-and-set ``queued → running``) and runs
:func:`app.datasets.versions.service.create_version` in one transaction, so the version appears
whole or not at all. Phases are committed on the side while nothing is written yet; a build
whose worker died goes back to the queue (the sweeper), and a stopping worker's build is
simply rolled back and run again by the next one.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.models import Dataset
from app.datasets.versions import service
from app.datasets.versions.models import VersionBuild, VersionBuildStatus
from app.datasets.versions.splits import SplitRule
from app.db import rows_affected, task_session, utcnow
from app.errors import Conflict, NotFound
from app.i18n import _
from app.worker import enqueue_after_commit, send_task

logger = logging.getLogger(__name__)

BUILD_TASK = "datasets.build_version"
PROGRESS = {"planning": 0.1, "overlaps": 0.35, "saving": 0.6}
UNCLAIMED_AFTER = timedelta(minutes=1)
STALE_AFTER = timedelta(minutes=20)  # a build commits no sign of life while it saves
MAX_ATTEMPTS = 3


def start(
    session: Session,
    *,
    actor: User,
    dataset: Dataset,
    request: service.VersionRequest,
    acknowledge_leakage: bool,
    seen_leakage: str | None,
) -> VersionBuild:
    """Record the build and send its task once this commits."""
    if request.pilot_size is not None and request.pilot_size < 1:
        raise Conflict(_("A pilot needs at least one example."))
    build = VersionBuild(
        project_id=dataset.project_id,
        dataset_id=dataset.id,
        actor_id=actor.id,
        request={
            "note": request.note,
            "pilot_size": request.pilot_size,
            "rule": asdict(request.rule),
        },
        acknowledge_leakage=acknowledge_leakage,
        seen_leakage=seen_leakage,
        status=VersionBuildStatus.QUEUED,
        queued_at=utcnow(),
    )
    session.add(build)
    session.flush()
    enqueue_after_commit(session, BUILD_TASK, build.id)
    return build


def get_build(session: Session, *, project_id: int, build_id: int) -> VersionBuild:
    build = session.get(VersionBuild, build_id)
    if build is None or build.project_id != project_id:
        raise NotFound(_("This version is not being created in this project."))
    return build


def _version_request(stored: dict[str, Any]) -> service.VersionRequest:
    rule = SplitRule(**(stored.get("rule") or {}))
    return service.VersionRequest(
        note=str(stored.get("note") or ""), pilot_size=stored.get("pilot_size"), rule=rule
    )


def _claim(build_id: int) -> bool:
    with task_session() as session:
        now = utcnow()
        claimed = session.execute(
            update(VersionBuild)
            .where(VersionBuild.id == build_id, VersionBuild.status == VersionBuildStatus.QUEUED)
            .values(
                status=VersionBuildStatus.RUNNING,
                phase="planning",
                progress=PROGRESS["planning"],
                started_at=func.coalesce(VersionBuild.started_at, now),
                heartbeat_at=now,
                attempts=VersionBuild.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        return rows_affected(claimed) == 1


def _phase(build_id: int, name: str) -> None:
    # Its own short transaction: the build's transaction has written nothing yet.
    with task_session() as session:
        session.execute(
            update(VersionBuild)
            .where(VersionBuild.id == build_id, VersionBuild.status == VersionBuildStatus.RUNNING)
            .values(phase=name, progress=PROGRESS.get(name, 0.0), heartbeat_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def _fail(build_id: int, error: dict[str, Any]) -> None:
    with task_session() as session:
        session.execute(
            update(VersionBuild)
            .where(VersionBuild.id == build_id, VersionBuild.status == VersionBuildStatus.RUNNING)
            .values(
                status=VersionBuildStatus.FAILED,
                error=error,
                phase=None,
                finished_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )


def _build(session: Session, build: VersionBuild) -> int:
    dataset = session.get(Dataset, build.dataset_id)
    actor = session.get(User, build.actor_id) if build.actor_id else None
    if dataset is None or dataset.archived_at is not None or actor is None:
        raise NotFound("gone")
    version = service.create_version(
        session,
        actor=actor,
        dataset=dataset,
        request=_version_request(build.request),
        acknowledge_leakage=build.acknowledge_leakage,
        seen_leakage=build.seen_leakage,
        on_phase=lambda name: _phase(build.id, name),
    )
    build.status = VersionBuildStatus.DONE
    build.version_id = version.id
    build.phase = None
    build.progress = 1.0
    build.finished_at = utcnow()
    return version.id


def run_build(build_id: int) -> str:
    """The task's work: claim the build, create the version (all or nothing), record it."""
    if not _claim(build_id):
        return "not queued"
    try:
        with task_session() as session:
            build = session.get(VersionBuild, build_id)
            if build is None:
                return "gone"
            version_id = _build(session, build)
    except service.LeakageFound as found:
        _fail(build_id, {"code": "leakage", "total": found.report.total})
        return "overlaps to accept"
    except NotFound:
        _fail(build_id, {"code": "gone"})
        return "gone"
    except service.NoTrainingExamples:
        _fail(build_id, {"code": "no_training"})
        return "no training examples"
    except Conflict:
        _fail(build_id, {"code": "race"})  # another version was numbered at the same moment
        return "conflict"
    except Exception:
        logger.exception("creating a version (build %s) failed", build_id)
        _fail(build_id, {"code": "internal"})
        return "failed"
    return f"version {version_id}"


def sweep() -> dict[str, int]:
    """Re-send builds whose message was lost; put back (or fail) builds whose worker died."""
    now = utcnow()
    with task_session() as session:
        session.execute(
            update(VersionBuild)
            .where(
                VersionBuild.status == VersionBuildStatus.RUNNING,
                VersionBuild.heartbeat_at < now - STALE_AFTER,
                VersionBuild.attempts >= MAX_ATTEMPTS,
            )
            .values(status=VersionBuildStatus.FAILED, error={"code": "internal"}, finished_at=now)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(VersionBuild)
            .where(
                VersionBuild.status == VersionBuildStatus.RUNNING,
                or_(
                    VersionBuild.heartbeat_at.is_(None),
                    VersionBuild.heartbeat_at < now - STALE_AFTER,
                ),
            )
            .values(status=VersionBuildStatus.QUEUED, queued_at=now - UNCLAIMED_AFTER)
            .execution_options(synchronize_session=False)
        )
        ids = list(
            session.scalars(
                select(VersionBuild.id)
                .where(
                    VersionBuild.status == VersionBuildStatus.QUEUED,
                    VersionBuild.queued_at <= now - UNCLAIMED_AFTER,
                )
                .limit(50)
            )
        )
    for build_id in ids:
        send_task(BUILD_TASK, [build_id])
    return {"resent": len(ids)}
