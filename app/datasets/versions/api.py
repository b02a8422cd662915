"""Dataset versions in the JSON API (/api/v1): list, check, create, read, download, examples.

Creating a version follows the same rules as the page: only approved examples, the test split
never in a training file, and overlaps between the splits must be accepted explicitly
(``acknowledge_leakage``); without it the answer is 409 with the overlaps listed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from app.datasets.models import Dataset
from app.datasets.versions import downloads, queries, service
from app.datasets.versions.leakage import LeakageReport
from app.datasets.versions.splits import SplitRule
from app.db import SessionDep, discard_changes
from app.errors import NotFound
from app.projects.dependencies import ApiVersionAccess, ApiViewAccess
from app.projects.service import ProjectContext

router = APIRouter(prefix="/api/v1/projects/{project_id}/versions", tags=["dataset versions"])


class VersionIn(BaseModel):
    dataset_id: int
    note: str = Field("", max_length=2000)
    pilot_size: int | None = Field(None, ge=1, le=100_000, description="A seeded pilot subset.")
    seed: int = Field(SplitRule().seed, ge=0, le=999_999_999)
    validation_ratio: float = Field(0.1, ge=0, le=0.5)
    acknowledge_leakage: bool = Field(
        False, description="Accept the overlaps between training and validation/test."
    )


class FileOut(BaseModel):
    split: str
    lines: int
    bytes: int
    sha256: str
    url: str
    openai_url: str


class VersionOut(BaseModel):
    id: int
    dataset_id: int
    dataset: str
    number: int
    kind: str
    pilot_size: int | None
    note: str
    created_at: datetime
    created_by: str
    seed: int
    split_rule: dict[str, Any]
    counts: dict[str, int]
    token_stats: dict[str, Any]
    content_hash: str
    files: list[FileOut]
    csv_url: str
    leakage: dict[str, Any]


class LeakOut(BaseModel):
    train_id: int
    other_id: int
    other_split: str
    kind: str
    similarity: float


class CheckOut(BaseModel):
    counts: dict[str, int]
    leakage_total: int
    leakage: list[LeakOut]
    fingerprint: str


class FrozenOut(BaseModel):
    example_id: int
    split: str
    position: int
    revision: int
    content_hash: str
    token_estimate: int
    system_instruction: str
    turns: list[dict[str, str]]
    tag: str | None


class FrozenPage(BaseModel):
    split: str
    page: int
    pages: int
    total: int
    examples: list[FrozenOut]


def _out(ctx: ProjectContext, row: queries.VersionRow) -> VersionOut:
    v = row.version
    base = f"/api/v1/projects/{ctx.project.id}/versions/{v.id}"
    files = [
        FileOut(
            split=split,
            lines=info["lines"],
            bytes=info["bytes"],
            sha256=info["sha256"],
            url=f"{base}/files/{split}",
            openai_url=f"{base}/files/{split}?format=openai",
        )
        for split, info in sorted(
            v.files.items(), key=lambda item: queries.SPLIT_ORDER.index(item[0])
        )
    ]
    return VersionOut(
        id=v.id,
        dataset_id=v.dataset_id,
        dataset=row.dataset,
        number=v.number,
        kind=v.kind,
        pilot_size=v.pilot_size,
        note=v.note,
        created_at=v.created_at,
        created_by=row.created_by,
        seed=v.seed,
        split_rule=v.split_rule,
        counts=v.counts,
        token_stats=v.token_stats,
        content_hash=v.content_hash,
        files=files,
        csv_url=f"{base}/export.csv",
        leakage={k: v.leakage[k] for k in v.leakage if k != "pairs"},
    )


def _leaks(report: LeakageReport) -> list[LeakOut]:
    return [LeakOut(**vars(pair)) for pair in report.pairs]


def _dataset(session: SessionDep, ctx: ProjectContext, dataset_id: int) -> Dataset:
    dataset = session.get(Dataset, dataset_id)
    if dataset is None or dataset.project_id != ctx.project.id:
        raise NotFound("No dataset with this id in this project.")
    return dataset


def _request(body: VersionIn) -> service.VersionRequest:
    return service.VersionRequest(
        note=body.note,
        pilot_size=body.pilot_size,
        rule=SplitRule(validation_ratio=body.validation_ratio, seed=body.seed),
    )


@router.get("", response_model=list[VersionOut], name="api:versions")
def list_versions(
    session: SessionDep, ctx: ApiViewAccess, dataset_id: int | None = None
) -> list[VersionOut]:
    """The project's versions, newest first (optionally of one dataset)."""
    rows = queries.list_versions(session, project_id=ctx.project.id, dataset_id=dataset_id)
    return [_out(ctx, row) for row in rows]


@router.post("/check", response_model=CheckOut, name="api:versions_check")
def check(session: SessionDep, ctx: ApiVersionAccess, body: VersionIn) -> CheckOut:
    """What a version would contain now, and the overlaps between its splits (nothing is saved)."""
    plan = service.plan_version(
        session, dataset=_dataset(session, ctx, body.dataset_id), request=_request(body)
    )
    report = service.check_leakage(session, plan=plan)
    return CheckOut(
        counts=plan.counts,
        leakage_total=report.total,
        leakage=_leaks(report),
        fingerprint=report.fingerprint,
    )


@router.post(
    "",
    response_model=VersionOut,
    status_code=201,
    name="api:versions_create",
    responses={409: {"description": "No approved examples, or unaccepted overlaps."}},
)
def create(session: SessionDep, ctx: ApiVersionAccess, body: VersionIn) -> Response | VersionOut:
    """Freeze the approved examples of a dataset into a new version."""
    dataset = _dataset(session, ctx, body.dataset_id)
    try:
        version = service.create_version(
            session,
            actor=ctx.user,
            dataset=dataset,
            request=_request(body),
            acknowledge_leakage=body.acknowledge_leakage,
        )
    except service.LeakageFound as found:
        discard_changes(session)
        error = {
            "code": "leakage",
            "message": found.message,
            "leakage_total": found.report.total,
            "leakage": [leak.model_dump() for leak in _leaks(found.report)],
        }
        return JSONResponse({"error": error}, status_code=409)
    return _out(ctx, queries.version_row(session, version))


@router.get("/{version_id}", response_model=VersionOut, name="api:version")
def read(session: SessionDep, ctx: ApiViewAccess, version_id: int) -> VersionOut:
    version = queries.get_version(session, project_id=ctx.project.id, version_id=version_id)
    return _out(ctx, queries.version_row(session, version))


@router.get(
    "/{version_id}/files/{split}",
    name="api:version_file",
    response_class=Response,
    responses={200: {"content": {"application/jsonl": {}}}},
)
def file(
    session: SessionDep,
    ctx: ApiViewAccess,
    version_id: int,
    split: Literal["train", "validation", "test"],
    format: Literal["vertex", "openai"] = "vertex",
) -> Response:
    """One split as JSONL: ``vertex`` is the exact training file (``X-Content-SHA256``)."""
    version = queries.get_version(session, project_id=ctx.project.id, version_id=version_id)
    if split not in version.files:
        raise NotFound(f"This version has no {split} examples.")
    row = queries.version_row(session, version)
    if format == "openai":
        return StreamingResponse(
            downloads.openai_jsonl(version.id, split), media_type="application/jsonl; charset=utf-8"
        )
    return FileResponse(
        service.file_path(version, split),
        media_type="application/jsonl; charset=utf-8",
        filename=downloads.download_name(row, split, "jsonl"),
        headers={"X-Content-SHA256": version.files[split]["sha256"]},
    )


@router.get(
    "/{version_id}/export.csv",
    name="api:version_csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_csv(session: SessionDep, ctx: ApiViewAccess, version_id: int) -> Response:
    """Every example of the version as a spreadsheet-safe CSV (UTF-8 with BOM)."""
    version = queries.get_version(session, project_id=ctx.project.id, version_id=version_id)

    return StreamingResponse(
        downloads.csv_file(version.id, queries.SPLIT_ORDER), media_type="text/csv; charset=utf-8"
    )


@router.get("/{version_id}/examples", response_model=FrozenPage, name="api:version_examples")
def examples(
    session: SessionDep,
    ctx: ApiViewAccess,
    version_id: int,
    split: Literal["train", "validation", "test"] = "train",
    page: int = Query(1, ge=1),
) -> FrozenPage:
    """The examples frozen into a split, in file order (50 per page), as they were frozen."""
    version = queries.get_version(session, project_id=ctx.project.id, version_id=version_id)
    listing = queries.examples_page(session, version=version, split=split, page=page)
    return FrozenPage(
        split=listing.split,
        page=listing.page,
        pages=listing.pages,
        total=listing.total,
        examples=[
            FrozenOut(
                example_id=r.example_id,
                split=r.split,
                position=r.position,
                revision=r.revision,
                content_hash=r.content_hash,
                token_estimate=r.token_estimate,
                system_instruction=r.content.get("system_instruction") or "",
                turns=r.content.get("turns") or [],
                tag=r.content.get("tag"),
            )
            for r in listing.rows
        ],
    )
