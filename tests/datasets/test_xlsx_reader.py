"""Excel workbooks: several sheets, choosing one, the header row, values that are not text."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from app.datasets.reading.files import inspect_file
from tests.datasets.support import check_file, only, workbook, write

SHEETS: dict[str, list[list[Any]]] = {
    "説明": [["このファイルの使い方"], ["2枚目のシートに例を入力してください。"]],
    "FAQ": [
        ["顧客対応FAQ", None, None],
        [None, None, None],
        ["質問", "回答", "カテゴリ"],
        ["返品できますか？", "未開封なら8日以内に承ります。", "返品"],
        ["送料はいくら？", "全国一律500円です。", "配送"],
        [None, None, None],
        [None, None, None],
    ],
    "English": [["prompt", "response"], ["Hi", "Hello! How can I help?"]],
}


def test_inspect_lists_sheets_and_finds_the_header_below_a_title(tmp_path: Path) -> None:
    path = write(tmp_path, "book.xlsx", workbook(SHEETS, active="FAQ"))
    inspection = inspect_file(path)
    assert inspection.format == "xlsx"
    assert inspection.encoding is None
    assert inspection.sheet_names == ["説明", "FAQ", "English"]
    assert inspection.sheet == "FAQ"  # the sheet that was active when saved
    assert inspection.header_row == 3
    assert inspection.headers == ("質問", "回答", "カテゴリ")
    assert inspection.preview[0] == ["返品できますか？", "未開封なら8日以内に承ります。", "返品"]
    assert inspection.mapping is not None
    assert (inspection.mapping.input, inspection.mapping.output, inspection.mapping.tag) == (
        "質問",
        "回答",
        "カテゴリ",
    )
    assert [e.row for e in inspection.examples] == [4, 5]


def test_reading_another_sheet_by_name(tmp_path: Path) -> None:
    path = write(tmp_path, "book.xlsx", workbook(SHEETS, active="FAQ"))
    reading, examples, report = check_file(path, sheet="English")
    assert reading.sheet == "English"
    assert [(e.row, e.turns[0].text) for e in examples] == [(2, "Hi")]
    assert report.findings == []


def test_trailing_empty_rows_are_skipped_and_rows_keep_excel_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "book.xlsx", workbook(SHEETS, active="FAQ"))
    _reading, examples, report = check_file(path, sheet="FAQ")
    assert [e.row for e in examples] == [4, 5]
    assert (report.rows, report.usable) == (2, 2)


def test_unknown_sheet(tmp_path: Path) -> None:
    path = write(tmp_path, "book.xlsx", workbook(SHEETS))
    reading, examples, report = check_file(path, sheet="Sheet9")
    assert examples == []
    [finding] = report.findings
    assert finding.code == "sheet_not_found"
    assert finding.params == {"sheet": "Sheet9", "sheets": "説明, FAQ, English"}
    assert reading.sheet_names == ["説明", "FAQ", "English"]


def test_excel_error_values_and_empty_cells(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.worksheets[0]
    sheet.append(["input", "output"])
    sheet.append(["価格は？", "=1/0"])
    sheet["B2"].value = "#DIV/0!"
    sheet["B2"].data_type = "e"
    sheet.append(["空の答え", None])
    buffer = io.BytesIO()
    book.save(buffer)
    _reading, _examples, report = check_file(write(tmp_path, "errors.xlsx", buffer.getvalue()))
    [error] = only(report, "excel_error")
    assert (error.row, error.column, error.params["value"]) == (2, "output", "#DIV/0!")
    assert [f.row for f in only(report, "empty_output")] == [3]


def test_a_truncated_workbook_is_a_finding(tmp_path: Path) -> None:
    data = workbook(SHEETS)
    path = write(tmp_path, "broken.xlsx", data[: len(data) // 2])
    reading, examples, report = check_file(path)
    assert examples == []
    assert [f.code for f in report.findings] in (["workbook_unreadable"], ["unsupported_format"])
    assert reading.format in ("xlsx", None)


def test_legacy_xls_and_other_binaries(tmp_path: Path) -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)
    _reading, _examples, report = check_file(write(tmp_path, "old.xls", ole))
    assert [f.code for f in report.findings] == ["legacy_excel"]
    _reading, _examples, report = check_file(write(tmp_path, "scan.csv", b"%PDF-1.7\n..."))
    [finding] = report.findings
    assert (finding.code, finding.params["detail"]) == ("unsupported_format", "PDF")


def test_a_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    _reading, _examples, report = check_file(write(tmp_path, "x.xlsx", buffer.getvalue()))
    [finding] = report.findings
    assert (finding.code, finding.params["detail"]) == ("unsupported_format", "ZIP archive")


def test_workbook_from_a_file_object(tmp_path: Path) -> None:
    handle = io.BytesIO(workbook({"S": [["質問", "回答"], ["q", "a"]]}))
    reading, examples, _report = check_file(handle)
    assert reading.format == "xlsx"
    assert len(examples) == 1
    assert not handle.closed
