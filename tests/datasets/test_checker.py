"""The whole-dataset check: several uploads at once, usable rows, and the statistics."""

from __future__ import annotations

from pathlib import Path

from app.datasets.quality.checks import CheckOptions, check_examples
from app.datasets.reading.files import read_file
from app.datasets.records import ExampleDraft, Finding, RowRef, Turn
from tests.datasets.support import collect, excel_csv, jsonl, write


def _example(
    row: int, question: str, answer: str, origin: str = "", split: str | None = None
) -> ExampleDraft:
    return ExampleDraft(
        row=row,
        system="",
        turns=(Turn("user", question), Turn("model", answer)),
        split=split,
        origin=origin,
    )  # type: ignore[arg-type]


def test_checks_run_across_uploads_of_one_dataset(tmp_path: Path) -> None:
    first = write(
        tmp_path, "first.csv", excel_csv([["質問", "回答"], ["営業時間は？", "9時からです。"]])
    )
    second = write(
        tmp_path,
        "second.jsonl",
        jsonl(
            [
                {"text_input": "営業時間は?", "output": "9時からです。"},
                {
                    "text_input": "営業時間は？",
                    "output": "年中無休、24時間いつでも対応しております。",
                },
            ]
        ),
    )
    examples: list[ExampleDraft] = []
    found: list[Finding] = []
    for origin, path in (("upload-1", first), ("upload-2", second)):
        more, problems = collect(read_file(path, origin=origin))
        examples += more
        found += problems
    report = check_examples(examples, reader_findings=found)
    duplicates = {
        (f.origin, f.row): f.related_rows for f in report.findings if f.code == "exact_duplicate"
    }
    assert duplicates == {
        ("upload-1", 2): (RowRef(1, "upload-2"),),
        ("upload-2", 1): (RowRef(2, "upload-1"),),
    }
    conflicts = {(f.origin, f.row) for f in report.findings if f.code == "conflict"}
    assert conflicts == {("upload-1", 2), ("upload-2", 1), ("upload-2", 2)}
    assert report.stats["duplicate_groups"] == [
        {"kind": "exact", "rows": [[2, "upload-1"], [1, "upload-2"]]}
    ]
    assert (report.rows, report.usable) == (3, 3)


def test_usable_counts_rows_without_errors_and_unreadable_rows_count_as_rows() -> None:
    examples = [_example(1, "q1", "a1"), _example(2, "q2", ""), _example(4, "q1", "a1")]
    unreadable = Finding("invalid_json", "error", 3, params={"error": "x"})
    report = check_examples(examples, reader_findings=[unreadable])
    assert report.rows == 4
    assert report.usable == 2  # rows 1 and 4: duplicates are only a warning
    assert report.stats["errors"] == 2
    assert report.stats["by_code"] == {"empty_output": 1, "exact_duplicate": 2, "invalid_json": 1}
    assert [f.row for f in report.findings] == [1, 2, 3, 4]


def test_statistics() -> None:
    examples = [
        _example(2, "メールは？", "taro@example.com です", split="train"),
        _example(3, "電話は？", "03-1234-5678 です", split="validation"),
        _example(4, "長い質問", "あ" * 300, split="train"),
        _example(5, "カード", "4111 1111 1111 1111", split=None),
    ]
    report = check_examples(examples, options=CheckOptions(max_tokens=200))
    stats = report.stats
    assert stats["pii"] == {"email": 1, "phone": 1, "credit_card": 1, "my_number": 0}
    assert stats["splits"] == {"train": 2, "validation": 1, "test": 0, "unassigned": 1}
    tokens = stats["tokens"]
    assert tokens["method"].startswith("estimate")
    assert tokens["limit"] == 200
    assert tokens["over_limit"] == 1
    assert tokens["max"] == report.token_counts[2] == 4 + 4 + 300 + 4
    assert sum(bucket["count"] for bucket in tokens["histogram"]) == 4
    assert (stats["rows"], stats["usable"]) == (4, 3)


def test_an_empty_dataset() -> None:
    report = check_examples([])
    assert (report.rows, report.usable, report.findings) == (0, 0, [])
    assert report.stats["tokens"]["total"] == 0


def test_finding_round_trip_for_storage() -> None:
    finding = Finding(
        "near_duplicate",
        "warning",
        5,
        "回答",
        {"similarity": 0.91},
        (RowRef(7, "u1"),),
        ("turns.1", 0, 4),
        "u2",
    )
    assert Finding.from_dict(finding.to_dict()) == finding
