"""Excel workbooks (.xlsx), streamed with openpyxl's read-only mode: one row at a time, the
workbook never fully in memory. Values are the ones Excel last calculated (``data_only``)."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from typing import Any, BinaryIO

from openpyxl import load_workbook

from app.datasets.quality import findings
from app.datasets.reading.tabular import Cell, RawRow
from app.datasets.records import FILE_ROW, Finding

Workbook = Any  # openpyxl's Workbook in read-only mode (openpyxl ships without type hints)

# What can go wrong inside openpyxl on a damaged or foreign file; each becomes a finding.
WORKBOOK_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    KeyError,
    ValueError,
    TypeError,
    OSError,
    EOFError,
    IndexError,
    AttributeError,
    SyntaxError,
    LookupError,
)


def is_workbook(stream: BinaryIO) -> bool:
    """Whether a ZIP archive is an Excel workbook (and not, say, a Word file or a plain ZIP)."""
    try:
        stream.seek(0)
        with zipfile.ZipFile(stream) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    finally:
        stream.seek(0)


def open_workbook(stream: BinaryIO) -> tuple[Workbook | None, Finding | None]:
    try:
        stream.seek(0)
        return load_workbook(stream, read_only=True, data_only=True), None
    except WORKBOOK_ERRORS as error:
        return None, findings.make("workbook_unreadable", FILE_ROW, reason=_reason(error))


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:200]


def sheet_names(workbook: Workbook) -> list[str]:
    """Worksheets only (chart sheets hold no cells)."""
    return [sheet.title for sheet in workbook.worksheets]


def choose_sheet(workbook: Workbook, name: str | None) -> tuple[Any, Finding | None]:
    """The named sheet, or the sheet that was active when the file was saved."""
    names = sheet_names(workbook)
    if name is not None:
        if name not in names:
            return None, findings.make(
                "sheet_not_found", FILE_ROW, sheet=name, sheets=", ".join(names)
            )
        return workbook[name], None
    active = workbook.active
    if active is not None and getattr(active, "title", None) in names:
        return active, None
    if names:
        return workbook[names[0]], None
    return None, findings.make("no_examples", FILE_ROW)


def cell_of(value: object, data_type: str | None) -> Cell:
    """A cell as text, remembering what kind of value it really was."""
    if value is None:
        return Cell("")
    if isinstance(value, str):
        return Cell(value, "error" if data_type == "e" else None)
    if isinstance(value, bool):
        return Cell("TRUE" if value else "FALSE", "boolean")
    if isinstance(value, int):
        return Cell(str(value), "number")
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return Cell(str(int(value)), "number")
        return Cell(repr(value), "number")
    if isinstance(value, dt.datetime):
        text = value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
        return Cell(text, "date")
    if isinstance(value, dt.date | dt.time):
        return Cell(value.isoformat(), "date")
    if isinstance(value, dt.timedelta):
        return Cell(str(value), "date")
    return Cell(str(value), "number")


def declared_rows(sheet: Any) -> int | None:
    """The number of rows the sheet says it has (may be wrong or missing; for progress only)."""
    try:
        value = sheet.max_row
    except WORKBOOK_ERRORS:
        return None
    return value if isinstance(value, int) and value > 0 else None


def iter_rows(sheet: Any) -> Iterator[RawRow | Finding]:
    """Rows numbered as Excel shows them. The declared sheet size is ignored (some programs
    write a wrong one, which would cut rows off); missing rows come back empty."""
    number = 0
    try:
        sheet.reset_dimensions()
        for number, cells in enumerate(sheet.iter_rows(min_row=1), start=1):
            yield RawRow.of_cells(
                number, [cell_of(c.value, getattr(c, "data_type", None)) for c in cells]
            )
    except WORKBOOK_ERRORS as error:
        yield findings.make("workbook_unreadable", number + 1, reason=_reason(error))
