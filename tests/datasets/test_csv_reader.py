"""CSV and TSV reading: Excel's Shift_JIS files, delimiters, header rows, broken quoting,
renamed files, and file objects."""

from __future__ import annotations

import codecs
import io
from pathlib import Path

from app.datasets.reading.column_mapping import ColumnMapping
from app.datasets.reading.csv_reader import sniff_delimiter
from app.datasets.reading.files import inspect_file, read_file
from tests.datasets.support import check_file, collect, excel_csv, jsonl, only, workbook, write

EXCEL_ROWS = [
    ["お客様の質問", "模範回答", "カテゴリ", "分割"],
    [
        "①の手続きを教えてください",
        "㈱髙橋商事の山﨑が担当します。\n受付は平日９時～１８時です。",
        "手続き",
        "学習",
    ],
    ["料金は？", "月額1,000円（税込）です。", "料金", "検証"],
    ["解約方法は？", 'マイページの「解約」から、"今すぐ解約"を押してください。', "解約", "テスト"],
]


def test_shift_jis_csv_as_excel_saves_it(tmp_path: Path) -> None:
    data = excel_csv(EXCEL_ROWS)
    assert b"\r\n" in data
    assert "①".encode("cp932") in data
    path = write(tmp_path, "faq.csv", data)
    reading, examples, report = check_file(path)
    assert (reading.format, reading.encoding, reading.delimiter) == ("csv", "cp932", ",")
    assert reading.mapping == ColumnMapping(
        input="お客様の質問", output="模範回答", split="分割", tag="カテゴリ"
    )
    assert [e.row for e in examples] == [2, 3, 4]
    first = examples[0]
    assert first.turns[0].text == "①の手続きを教えてください"
    assert first.turns[1].text == "㈱髙橋商事の山﨑が担当します。\n受付は平日９時～１８時です。"
    assert [e.split for e in examples] == ["train", "validation", "test"]
    assert [e.tag for e in examples] == ["手続き", "料金", "解約"]
    assert examples[2].turns[1].text.count('"') == 2
    assert first.cells == {
        "お客様の質問": EXCEL_ROWS[1][0],
        "模範回答": EXCEL_ROWS[1][1],
        "カテゴリ": "手続き",
        "分割": "学習",
    }
    assert report.findings == []
    assert (report.rows, report.usable) == (3, 3)


def test_row_numbers_count_records_not_lines(tmp_path: Path) -> None:
    rows = [["input", "output"], ["a", "line 1\nline 2\nline 3"], ["b", ""]]
    _reading, _examples, report = check_file(write(tmp_path, "x.csv", excel_csv(rows)))
    assert [(f.code, f.row) for f in report.findings] == [("empty_output", 3)]


def test_utf8_with_bom_does_not_stick_to_the_first_header(tmp_path: Path) -> None:
    data = codecs.BOM_UTF8 + "prompt,response\r\nこんにちは,はい\r\n".encode()
    reading, examples, _report = check_file(write(tmp_path, "x.csv", data))
    assert reading.encoding == "utf-8-sig"
    assert reading.headers == ("prompt", "response")
    assert examples[0].turns[0].text == "こんにちは"
    forced, examples, _report = check_file(write(tmp_path, "y.csv", data), encoding="utf-8")
    assert forced.headers == ("prompt", "response")


def test_excel_unicode_text_is_utf16_with_tabs(tmp_path: Path) -> None:
    data = "質問\t回答\r\n①とは？\t丸数字の一です。\r\n".encode("utf-16")
    reading, examples, _report = check_file(write(tmp_path, "faq.txt", data))
    assert (reading.format, reading.encoding, reading.delimiter) == ("tsv", "utf-16", "\t")
    assert examples[0].turns[1].text == "丸数字の一です。"


def test_sniffs_semicolon_and_pipe_delimiters() -> None:
    assert sniff_delimiter("q;a\r\nhello;world, and more\r\nx;y\r\n") == ";"
    assert sniff_delimiter("q|a\nx|y\n") == "|"
    assert sniff_delimiter("q\ta\nx, y\tz\n", preferred="\t") == "\t"
    assert sniff_delimiter("just one column\nanother line\n") is None


def test_header_row_below_a_title(tmp_path: Path) -> None:
    rows = [["社内FAQ 2024年版", ""], ["", ""], ["質問", "回答"], ["営業時間は？", "9時からです。"]]
    inspection = inspect_file(write(tmp_path, "faq.csv", excel_csv(rows)))
    assert inspection.header_row == 3
    assert inspection.headers == ("質問", "回答")
    assert inspection.preview == [["営業時間は？", "9時からです。"]]
    assert inspection.examples[0].row == 4
    assert inspection.confidence == 1.0


def test_a_table_without_a_header_row(tmp_path: Path) -> None:
    rows = [
        ["パスワードを忘れました。", "ログイン画面の「再設定」から変更できます。"],
        ["領収書は出せますか？", "はい、マイページから発行できます。"],
    ]
    inspection = inspect_file(write(tmp_path, "x.csv", excel_csv(rows)))
    assert (inspection.header_row, inspection.headers) == (None, ("A", "B"))
    assert [e.row for e in inspection.examples] == [1, 2]
    assert inspection.confidence == 0.3
    assert [f.code for f in inspection.findings] == ["mapping_guessed"]


def test_unterminated_quote_is_a_finding_with_its_row(tmp_path: Path) -> None:
    data = b'input,output\r\nq1,a1\r\nq2,"never closed\r\nq3,a3\r\n'
    _reading, examples, report = check_file(write(tmp_path, "x.csv", data))
    assert [e.row for e in examples] == [2]
    [finding] = only(report, "csv_syntax")
    assert finding.row == 3
    assert "closing quote" in str(finding.params["error"])
    assert (report.rows, report.usable) == (2, 1)


def test_text_after_a_closing_quote_is_a_finding(tmp_path: Path) -> None:
    data = b'input,output\r\n"q1"x,a1\r\nq2,a2\r\n'
    _reading, examples, report = check_file(write(tmp_path, "x.csv", data))
    assert [f.row for f in only(report, "csv_syntax")] == [2]
    assert [e.row for e in examples] == [3]


def test_an_xlsx_renamed_to_csv_is_read_as_a_workbook(tmp_path: Path) -> None:
    data = workbook({"Sheet1": [["input", "output"], ["q", "a"]]})
    reading, examples, report = check_file(write(tmp_path, "export.csv", data))
    assert reading.format == "xlsx"
    assert [e.turns[1].text for e in examples] == ["a"]
    [mismatch] = only(report, "format_mismatch")
    assert mismatch.params == {"extension": ".csv", "actual": "Excel workbook"}
    assert mismatch.severity == "warning"


def test_jsonl_renamed_to_csv_is_read_as_jsonl(tmp_path: Path) -> None:
    data = jsonl([{"text_input": "q", "output": "a"}])
    reading, examples, report = check_file(write(tmp_path, "data.csv", data))
    assert reading.format == "jsonl"
    assert len(examples) == 1
    assert only(report, "format_mismatch")


def test_missing_and_unknown_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", excel_csv([["質問", "メモ"], ["q", "memo"]]))
    reading, examples, report = check_file(path)
    assert [e.turns[1].text for e in examples] == ["memo"]
    guessed = only(report, "mapping_guessed")  # メモ taken as the output by position
    assert guessed[0].params == {"input": "質問", "output": "メモ"}
    only_one = write(tmp_path, "y.csv", excel_csv([["質問"], ["q"]]))
    reading, examples, report = check_file(only_one)
    [missing] = only(report, "missing_column")
    assert (missing.row, missing.params["field"]) == (1, "output")
    assert examples == []
    assert reading.mapping is None
    wrong = ColumnMapping(input="質問", output="回答")
    _reading, _examples, report = check_file(path, mapping=wrong)
    [unknown] = only(report, "column_not_found")
    assert (unknown.column, unknown.params["headers"]) == ("回答", "質問, メモ")


def test_a_remembered_mapping_by_letter(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", excel_csv([["a", "b", "c"], ["x", "how much?", "100 yen"]]))
    _reading, examples, _report = check_file(path, mapping=ColumnMapping(input="B", output="C"))
    assert examples[0].turns[0].text == "how much?"
    assert examples[0].columns["turns.1"] == "c"


def test_file_object_without_a_name_and_a_stream_that_cannot_seek() -> None:
    data = excel_csv(EXCEL_ROWS)

    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self.source = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            chunk = self.source.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    handle = io.BytesIO(data)
    examples, _found = collect(read_file(handle))
    assert len(examples) == 3
    assert not handle.closed  # the caller's file stays open
    examples, _found = collect(read_file(io.BufferedReader(Pipe())))
    assert len(examples) == 3


def test_unknown_encoding_tells_the_user_to_save_as_csv_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", bytes(range(128, 256)) * 20)
    reading, examples, report = check_file(path)
    assert examples == []
    [finding] = report.findings
    assert (finding.code, finding.row, reading.format) == ("unknown_encoding", 0, None)
    from app.datasets.quality import findings as catalogue

    assert "CSV UTF-8" in catalogue.hint(finding)


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    _reading, _examples, report = check_file(write(tmp_path, "x.csv", b""))
    assert [f.code for f in report.findings] == ["file_empty"]
    _reading, _examples, report = check_file(write(tmp_path, "y.csv", b"input,output\r\n"))
    assert [f.code for f in report.findings] == ["no_examples"]
