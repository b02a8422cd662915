"""Files as real tools write them, and a one-call check of a file, for the dataset tests."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from app.datasets.quality.checks import CheckOptions, CheckReport, check_examples
from app.datasets.reading.column_mapping import ColumnMapping
from app.datasets.reading.files import FileReading, read_file
from app.datasets.records import ExampleDraft, Finding


def excel_csv(rows: Sequence[Sequence[str]], encoding: str = "cp932") -> bytes:
    """A CSV as Japanese Excel saves "CSV (コンマ区切り)": CP932, CRLF between rows, cells with
    commas, quotes or line breaks quoted, line breaks inside a cell as LF."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def workbook(sheets: Mapping[str, Sequence[Sequence[Any]]], active: str | None = None) -> bytes:
    """An .xlsx with the given sheets (openpyxl), the first sheet active unless told."""
    book = Workbook()
    for default in list(book.worksheets):
        book.remove(default)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    if active:
        book.active = book.sheetnames.index(active)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def jsonl(objects: Iterable[object]) -> bytes:
    return "".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in objects).encode()


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def collect(reading: FileReading) -> tuple[list[ExampleDraft], list[Finding]]:
    examples: list[ExampleDraft] = []
    found: list[Finding] = []
    for item in reading:
        if isinstance(item, ExampleDraft):
            examples.append(item)
        else:
            found.append(item)
    return examples, found


def check_file(
    path: Path | io.BytesIO,
    *,
    filename: str | None = None,
    mapping: ColumnMapping | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    options: CheckOptions | None = None,
) -> tuple[FileReading, list[ExampleDraft], CheckReport]:
    """Read a file and check it, as ``tunedesk check`` does."""
    reading = read_file(path, filename=filename, mapping=mapping, sheet=sheet, encoding=encoding)
    examples, found = collect(reading)
    return reading, examples, check_examples(examples, options=options, reader_findings=found)


def codes_at(report: CheckReport | Iterable[Finding]) -> set[tuple[str, int]]:
    found = report.findings if isinstance(report, CheckReport) else report
    return {(f.code, f.row) for f in found}


def only(report: CheckReport | Iterable[Finding], code: str) -> list[Finding]:
    found = report.findings if isinstance(report, CheckReport) else report
    return [f for f in found if f.code == code]
