"""The report's rows: filters (problem code, severity, which rows), one page of examples with
their findings in the reader's language, problems highlighted in the text, related rows named
as the user knows them ("row 12" in the same file, "row 12 in faq.csv" in another), and the rows
of the dataset's files that could not be read at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.datasets.editing.examples import example_ref, stored_findings
from app.datasets.models import Dataset, DatasetFinding, Example, ExampleStatus, Upload
from app.datasets.quality import findings, labels
from app.datasets.records import Finding, RowRef
from app.datasets.report import highlight
from app.datasets.report.summary import unreadable_filter
from app.i18n import _

PER_PAGE = 25
SHOWS = ("problems", "all", "excluded")
UNREADABLE_SHOWN = 100


@dataclass(frozen=True, slots=True)
class Filters:
    code: str = ""
    severity: str = ""  # "" | error | warning
    show: str = "problems"  # problems | all | excluded
    upload: int | None = None
    example: int | None = None  # one row (a link from a related row)
    page: int = 1

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> Filters:
        def number(name: str) -> int | None:
            value = str(query.get(name) or "").strip()
            return int(value) if value.isdigit() and len(value) < 12 else None

        code = str(query.get("code") or "")
        severity = str(query.get("severity") or "")
        show = str(query.get("show") or "problems")
        return cls(
            code=code if code in labels.CODE_LABELS else "",
            severity=severity if severity in ("error", "warning") else "",
            show=show if show in SHOWS else "problems",
            upload=number("upload"),
            example=number("example"),
            page=max(1, number("page") or 1),
        )

    def params(self, **changes: Any) -> dict[str, Any]:
        values = replace(self, **changes) if changes else self
        params = {
            "code": values.code,
            "severity": values.severity,
            "show": "" if values.show == "problems" else values.show,
            "upload": values.upload or "",
            "example": values.example or "",
            "page": "" if values.page == 1 else values.page,
        }
        return {key: value for key, value in params.items() if value not in ("", None)}

    def query(self, **changes: Any) -> str:
        return urlencode(self.params(**changes))


@dataclass(slots=True)
class RelatedRow:
    label: str
    example_id: int | None


@dataclass(slots=True)
class FindingView:
    finding: Finding
    label: str
    message: str
    hint: str
    related: list[RelatedRow] = field(default_factory=list)


@dataclass(slots=True)
class RowView:
    example: Example
    file_name: str
    findings: list[FindingView]
    texts: list[tuple[str, str, list[highlight.Segment]]]  # (field path, label, segments)
    codes: set[str]

    @property
    def has_pii(self) -> bool:
        return bool(self.codes & set(labels.PII_CODES))

    @property
    def has_duplicate(self) -> bool:
        return bool(self.codes & set(labels.DUPLICATE_CODES))

    @property
    def has_conflict(self) -> bool:
        return "conflict" in self.codes


@dataclass(slots=True)
class UnreadableRow:
    finding_id: int
    file_name: str
    view: FindingView


@dataclass(slots=True)
class RowsPage:
    rows: list[RowView]
    total: int
    page: int
    pages: int
    unreadable: list[UnreadableRow]
    unreadable_total: int


def _base_query(dataset_id: int, filters: Filters) -> Any:
    """The ids of the rows the filters select (ids only: sorting and counting stay in the
    index, never touching the texts)."""
    query = select(Example.id).where(Example.dataset_id == dataset_id)
    if filters.example:
        return query.where(Example.id == filters.example)
    if filters.show == "excluded":
        query = query.where(Example.status == ExampleStatus.EXCLUDED)
    else:
        query = query.where(Example.status != ExampleStatus.EXCLUDED)
    if filters.show == "problems" and not filters.code and not filters.severity:
        query = query.where((Example.error_count + Example.warning_count) > 0)
    if filters.severity == "error":
        query = query.where(Example.error_count > 0)
    elif filters.severity == "warning":
        query = query.where(Example.warning_count > 0)
    if filters.code:
        query = query.where(
            exists().where(
                DatasetFinding.example_id == Example.id, DatasetFinding.code == filters.code
            )
        )
    if filters.upload:
        query = query.where(Example.upload_id == filters.upload)
    return query


def _file_names(session: Session, dataset_id: int) -> dict[int, str]:
    return dict(
        session.execute(
            select(Upload.id, Upload.file_name).where(Upload.dataset_id == dataset_id)
        ).all()
    )


def _ref_ids(session: Session, dataset_id: int, refs: set[RowRef]) -> dict[RowRef, int]:
    """Example ids of related rows (by upload and row, or by id)."""
    found: dict[RowRef, int] = {}
    by_upload: dict[int, set[int]] = {}
    for ref in refs:
        if ref.origin.startswith("e") and ref.origin[1:].isdigit():
            found[ref] = int(ref.origin[1:])
        elif ref.origin.startswith("u") and ref.origin[1:].isdigit():
            by_upload.setdefault(int(ref.origin[1:]), set()).add(ref.row)
    for upload_id, wanted in by_upload.items():
        for chunk_start in range(0, len(wanted), 500):
            chunk = sorted(wanted)[chunk_start : chunk_start + 500]
            for example_id, row in session.execute(
                select(Example.id, Example.source_row).where(
                    Example.dataset_id == dataset_id,
                    Example.upload_id == upload_id,
                    Example.source_row.in_(chunk),
                )
            ).all():
                found[RowRef(row or 0, f"u{upload_id}")] = example_id
    return found


def ref_label(ref: RowRef, own_origin: str, names: Mapping[int, str]) -> str:
    """A related row as the user knows it."""
    if ref.origin.startswith("e"):
        return _("example #%(id)s") % {"id": ref.origin[1:]}
    if ref.origin == own_origin:
        return _("row %(row)s") % {"row": ref.row}
    upload_id = int(ref.origin[1:]) if ref.origin[1:].isdigit() else 0
    return _("%(file)s, row %(row)s") % {"file": names.get(upload_id, "?"), "row": ref.row}


def _rows_text(finding: Finding, own: str, names: Mapping[int, str]) -> str:
    parts = []
    for ref in finding.related_rows[: findings.MESSAGE_ROWS]:
        if ref.origin == own:
            parts.append(str(ref.row))
        elif ref.origin.startswith("e"):
            parts.append(f"#{ref.origin[1:]}")
        else:
            upload_id = int(ref.origin[1:]) if ref.origin[1:].isdigit() else 0
            parts.append(
                _("%(row)s in %(file)s") % {"row": ref.row, "file": names.get(upload_id, "?")}
            )
    text = ", ".join(parts)
    extra = len(finding.related_rows) - findings.MESSAGE_ROWS
    if extra > 0:
        text += " " + _("and %(count)s more") % {"count": extra}
    return text


def finding_view(
    finding: Finding, own: str, names: Mapping[int, str], ids: Mapping[RowRef, int]
) -> FindingView:
    return FindingView(
        finding,
        labels.code_label(finding.code),
        findings.message(finding, rows=_rows_text(finding, own, names)),
        findings.hint(finding),
        [RelatedRow(ref_label(ref, own, names), ids.get(ref)) for ref in finding.related_rows],
    )


def _texts(example: Example, found: Sequence[Finding]) -> list[tuple[str, str, list[Any]]]:
    texts = []
    if example.system_instruction:
        spans = highlight.spans_for(found, "system")
        texts.append(
            (
                "system",
                _("System instruction"),
                highlight.segments(example.system_instruction, spans),
            )
        )
    single = len(example.turns) == 2
    for index, turn in enumerate(example.turns):
        role = turn.get("role", "")
        if single:
            label = _("Question") if role == "user" else _("Answer")
        else:
            label = _("Turn %(n)s · %(role)s") % {"n": index + 1, "role": role or "?"}
        spans = highlight.spans_for(found, f"turns.{index}")
        texts.append((f"turns.{index}", label, highlight.segments(turn.get("text", ""), spans)))
    return texts


def row_views(session: Session, dataset_id: int, examples: Sequence[Example]) -> list[RowView]:
    names = _file_names(session, dataset_id)
    stored = {example.id: stored_findings(example) for example in examples}
    refs = {ref for found in stored.values() for f in found for ref in f.related_rows}
    ids = _ref_ids(session, dataset_id, refs)
    views = []
    for example in examples:
        own = example_ref(example).origin
        found = stored[example.id]
        views.append(
            RowView(
                example,
                names.get(example.upload_id or 0, ""),
                [finding_view(f, own, names, ids) for f in found],
                _texts(example, found),
                {f.code for f in found},
            )
        )
    return views


def _unreadable(
    session: Session, dataset: Dataset, filters: Filters
) -> tuple[list[UnreadableRow], int]:
    if filters.show == "excluded" or filters.example or filters.severity == "warning":
        return [], 0
    query = (
        select(DatasetFinding)
        .join(Upload, Upload.id == DatasetFinding.upload_id)
        .where(unreadable_filter(dataset.id))
    )
    if filters.code:
        query = query.where(DatasetFinding.code == filters.code)
    if filters.upload:
        query = query.where(DatasetFinding.upload_id == filters.upload)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    names = _file_names(session, dataset.id)
    shown = session.scalars(
        query.order_by(DatasetFinding.upload_id, DatasetFinding.row).limit(UNREADABLE_SHOWN)
    )
    views = []
    for row in shown:
        finding = Finding(
            code=row.code,
            severity="error" if row.severity == "error" else "warning",
            row=row.row,
            column=row.column,
            params=dict(row.params or {}),
            origin=row.origin,
        )
        view = finding_view(finding, row.origin, names, {})
        views.append(UnreadableRow(row.id, names.get(row.upload_id or 0, ""), view))
    return views, total


def page(session: Session, dataset: Dataset, filters: Filters) -> RowsPage:
    query = _base_query(dataset.id, filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    current = min(filters.page, pages)
    ids = list(
        session.scalars(
            query.order_by(Example.upload_id, Example.source_row, Example.id)
            .offset((current - 1) * PER_PAGE)
            .limit(PER_PAGE)
        )
    )
    loaded = {e.id: e for e in session.scalars(select(Example).where(Example.id.in_(ids)))}
    examples = [loaded[i] for i in ids if i in loaded]
    unreadable, unreadable_total = _unreadable(session, dataset, filters)
    return RowsPage(
        row_views(session, dataset.id, examples),
        total,
        current,
        pages,
        unreadable,
        unreadable_total,
    )


def upload_findings(session: Session, upload: Upload, limit: int = 500) -> list[FindingView]:
    """The findings a failed upload left (its error report), in file order."""
    stored = session.scalars(
        select(DatasetFinding)
        .where(DatasetFinding.upload_id == upload.id, DatasetFinding.example_id.is_(None))
        .order_by(DatasetFinding.row, DatasetFinding.id)
        .limit(limit)
    )
    return [
        finding_view(
            Finding(
                code=row.code,
                severity="error" if row.severity == "error" else "warning",
                row=row.row,
                column=row.column,
                params=dict(row.params or {}),
                origin=row.origin,
            ),
            row.origin,
            {},
            {},
        )
        for row in stored
    ]
