"""What the dataset pages show, gathered in one place so the routers stay HTTP only (templates
never query: everything is loaded here)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from app.config import get_settings
from app.datasets import service
from app.datasets.checking import check_status
from app.datasets.intake import samples
from app.datasets.intake.inspection import ENCODINGS
from app.datasets.models import Dataset, Upload
from app.datasets.quality import labels
from app.datasets.report import rows
from app.datasets.report.summary import Summary, counts_by_upload, histogram_bars, summarize
from app.i18n import _
from app.projects.permissions import Permission
from app.projects.service import ProjectContext

ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (BOM)",
    "cp932": "Shift_JIS (CP932)",
    "euc_jp": "EUC-JP",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
}
FORMAT_LABELS = {"csv": "CSV", "tsv": "TSV", "xlsx": "Excel (.xlsx)", "jsonl": "JSONL"}


def dataset_crumbs(
    ctx: ProjectContext, dataset: Dataset, *tail: tuple[str, str | None]
) -> list[tuple[str, str | None]]:
    base = f"/projects/{ctx.project.id}/datasets"
    if not tail:
        return ctx.crumbs((_("Datasets"), base), (dataset.name, None))
    return ctx.crumbs((_("Datasets"), base), (dataset.name, f"{base}/{dataset.id}"), *tail)


def common() -> dict[str, Any]:
    settings = get_settings()
    return {
        "labels": labels,
        "max_upload_bytes": settings.max_upload_bytes,
        "max_upload_mb": settings.max_upload_mb,
        "encoding_labels": ENCODING_LABELS,
        "format_labels": FORMAT_LABELS,
    }


def list_context(
    session: Session,
    ctx: ProjectContext,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        **common(),
        "ctx": ctx,
        "datasets": service.list_datasets(session, project_id=ctx.project.id),
        "samples": samples.all_samples(),
        "form": form or {},
        "errors": errors or {},
        "breadcrumbs": ctx.crumbs((_("Datasets"), None)),
    }


def code_options(summary: Summary, current: str) -> list[tuple[str, str, int]]:
    """(code, label, count) for the filter: codes present in the dataset, in a useful order."""
    present = [code for code in labels.CODE_ORDER if summary.by_code.get(code) or code == current]
    return [(code, labels.code_label(code), summary.by_code.get(code, 0)) for code in present]


def report_context(
    session: Session,
    request: Request,
    ctx: ProjectContext,
    dataset: Dataset,
    filters: rows.Filters,
) -> dict[str, Any]:
    summary = summarize(session, dataset)
    uploads = service.uploads_of(session, dataset_id=dataset.id)
    sample = samples.get_sample(dataset.sample_id) if dataset.sample_id else None
    return {
        **common(),
        "ctx": ctx,
        "dataset": dataset,
        "summary": summary,
        "bars": histogram_bars(summary.tokens),
        "filters": filters,
        "page": rows.page(session, dataset, filters),
        "code_options": code_options(summary, filters.code),
        "uploads": uploads,
        "active_by_upload": counts_by_upload(session, dataset.id),
        "importing": [u for u in uploads if u.status in service.IN_PROGRESS],
        "checking": check_status.is_checking(dataset),
        "sample": sample,
        "can_edit": ctx.can(Permission.EDIT_EXAMPLES),
        "base_url": f"/projects/{ctx.project.id}/datasets/{dataset.id}",
        "breadcrumbs": dataset_crumbs(ctx, dataset),
        "upload_form": {},
        "upload_errors": {},
    }


def upload_context(
    ctx: ProjectContext,
    dataset: Dataset,
    upload: Upload,
    *,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    info = upload.inspection or {}
    return {
        **common(),
        "ctx": ctx,
        "dataset": dataset,
        "upload": upload,
        "info": info,
        "found": _inspection_findings(info),
        "encodings": ENCODINGS,
        "errors": errors or {},
        "error_finding": _error_finding(upload),
        "base_url": f"/projects/{ctx.project.id}/datasets/{dataset.id}",
        "upload_url": f"/projects/{ctx.project.id}/datasets/{dataset.id}/uploads/{upload.id}",
        "breadcrumbs": dataset_crumbs(ctx, dataset, (upload.file_name, None)),
    }


def _inspection_findings(info: dict[str, Any]) -> list[rows.FindingView]:
    from app.datasets.intake.inspection import stored_findings

    return [rows.finding_view(f, f.origin, {}, {}) for f in stored_findings(info)]


def _error_finding(upload: Upload) -> rows.FindingView | None:
    if not upload.error:
        return None
    from app.datasets.records import Finding

    finding = Finding(
        str(upload.error.get("code")), "error", 0, params=dict(upload.error.get("params") or {})
    )
    return rows.finding_view(finding, "", {}, {})
