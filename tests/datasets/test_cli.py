"""``tunedesk check``: the JSON contract, the table, languages and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from tests.datasets.support import excel_csv, jsonl, workbook, write

ROWS = [
    ["質問", "回答", "システム指示"],
    ["営業時間は？", "平日9時から18時までです。", "丁寧に"],
    ["営業時間は?", "平日9時から18時までです。", "丁寧に"],
    ["連絡先は？", "", "丁寧に"],
]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_is_exactly_the_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "faq.csv", excel_csv(ROWS))
    code, out, _err = _run(capsys, str(path), "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert list(document) == ["format", "encoding", "rows", "usable", "findings", "stats"]
    assert (document["format"], document["encoding"]) == ("csv", "cp932")
    assert (document["rows"], document["usable"]) == (3, 2)
    assert document["findings"] == [
        {
            "row": 2,
            "column": None,
            "code": "exact_duplicate",
            "severity": "warning",
            "message": "This example is the same as row 3 (ignoring width, spacing and case).",
            "related_rows": [3],
        },
        {
            "row": 3,
            "column": None,
            "code": "exact_duplicate",
            "severity": "warning",
            "message": "This example is the same as row 2 (ignoring width, spacing and case).",
            "related_rows": [2],
        },
        {
            "row": 4,
            "column": "回答",
            "code": "empty_output",
            "severity": "error",
            "message": "The output (ideal answer) is empty.",
            "related_rows": [],
        },
    ]
    for finding in document["findings"]:
        assert isinstance(finding["row"], int)
        assert finding["severity"] in ("error", "warning")
        assert all(isinstance(row, int) for row in finding["related_rows"])
    assert document["stats"]["exact_duplicate_groups"] == 1
    assert document["stats"]["tokens"]["method"].startswith("estimate")


def test_japanese_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "faq.csv", excel_csv(ROWS))
    _code, out, _err = _run(capsys, str(path), "--format", "json", "--lang", "ja")
    messages = {f["code"]: f["message"] for f in json.loads(out)["findings"]}
    assert messages["empty_output"] == "出力（模範回答）が空です。"
    assert messages["exact_duplicate"] == (
        "この例は行 2 と同じ内容です（全角・半角、空白、大文字・小文字の違いは無視しています）。"
    )
    _code, out, _err = _run(capsys, str(path), "--lang", "ja")
    assert "行" in out
    assert "空です" in out


def test_table_for_people(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "faq.csv", excel_csv(ROWS))
    code, out, _err = _run(capsys, str(path))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"File: {path} (format: csv, encoding: cp932)"
    assert lines[2].split() == ["Row", "Column", "Severity", "Code", "Message"]
    row = next(line for line in lines if "empty_output" in line)
    assert row.split()[:4] == ["4", "回答", "error", "empty_output"]
    assert any(line.strip().startswith("→ Write the answer") for line in lines)
    assert "Rows: 3 · usable: 2 · errors: 1 · warnings: 2" in out


def test_column_options_and_other_formats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [["a", "b", "c"], ["hello", "greeting", "こんにちは"]]
    path = write(tmp_path, "odd.csv", excel_csv(rows, "utf-8"))
    _code, out, _err = _run(
        capsys, str(path), "--format", "json", "--input-column", "a", "--output-column", "C"
    )
    document = json.loads(out)
    assert document["findings"] == []
    book = write(
        tmp_path, "book.xlsx", workbook({"一": [["x"]], "二": [["input", "output"], ["q", "a"]]})
    )
    _code, out, _err = _run(capsys, str(book), "--format", "json", "--sheet", "二")
    document = json.loads(out)
    assert (document["format"], document["encoding"], document["rows"]) == ("xlsx", None, 1)
    lines = write(tmp_path, "x.jsonl", jsonl([{"text_input": "q", "output": "a"}]) + b"{oops\n")
    _code, out, _err = _run(capsys, str(lines), "--format", "json")
    document = json.loads(out)
    assert [f["code"] for f in document["findings"]] == ["invalid_json"]
    assert document["findings"][0]["message"].startswith("This line is not valid JSON")


def test_encoding_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "faq.csv", excel_csv(ROWS))
    _code, out, _err = _run(capsys, str(path), "--format", "json", "--encoding", "Shift_JIS")
    assert json.loads(out)["encoding"] == "cp932"


@pytest.mark.parametrize(
    "make_args",
    [
        lambda p: [str(p.parent / "missing.csv")],
        lambda p: [str(p.parent)],
        lambda p: [str(p), "--encoding", "klingon"],
        lambda p: [str(p), "--format", "yaml"],
        lambda p: [str(p), "--input-column", "nope"],
        lambda p: [str(p), "--max-tokens", "0"],
    ],
)
def test_unusable_arguments_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make_args: object
) -> None:
    path = write(tmp_path, "faq.csv", excel_csv(ROWS))
    try:
        code = main(["check", *make_args(path)])  # type: ignore[operator]
    except SystemExit as stopped:  # argparse exits by itself on malformed options
        code = stopped.code  # type: ignore[assignment]
    assert code == 2
    assert capsys.readouterr().err


def test_unknown_sheet_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = write(tmp_path, "book.xlsx", workbook({"Sheet1": [["input", "output"], ["q", "a"]]}))
    code, out, err = _run(capsys, str(book), "--sheet", "Nope")
    assert (code, out) == (2, "")
    assert "Nope" in err
    assert "Sheet1" in err


def test_a_broken_file_still_runs_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "garbage.csv", bytes(range(256)) * 4)
    code, out, _err = _run(capsys, str(path), "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert document["format"] == "unknown"
    assert [f["code"] for f in document["findings"]] == ["unknown_encoding"]
    assert (document["rows"], document["usable"]) == (0, 0)


def test_the_installed_command(tmp_path: Path) -> None:
    path = write(tmp_path, "faq.csv", excel_csv(ROWS))
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, "-m", "app", "check", str(path), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rows"] == 3
