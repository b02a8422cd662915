"""JSONL in the three accepted formats, detected line by line, into one internal shape."""

from __future__ import annotations

from pathlib import Path

from app.datasets.reading.files import inspect_file
from app.datasets.records import Turn
from tests.datasets.support import check_file, jsonl, only, write

VERTEX = {
    "systemInstruction": {"role": "system", "parts": [{"text": "丁寧に答えてください。"}]},
    "contents": [
        {"role": "user", "parts": [{"text": "営業時間は？"}]},
        {"role": "model", "parts": [{"text": "平日9時から"}, {"text": "18時までです。"}]},
        {"role": "user", "parts": [{"text": "土曜日は？"}]},
        {"role": "model", "parts": [{"text": "休業日です。"}]},
    ],
}
AI_STUDIO = {"text_input": "返品できますか？", "output": "8日以内なら承ります。"}
OPENAI = {
    "messages": [
        {"role": "system", "content": "You are a support agent."},
        {"role": "user", "content": "Where is my order?"},
        {"role": "assistant", "content": [{"type": "text", "text": "It ships tomorrow."}]},
    ]
}


def test_three_schemas_in_one_file_become_one_shape(tmp_path: Path) -> None:
    path = write(tmp_path, "mixed.jsonl", jsonl([VERTEX, AI_STUDIO, OPENAI]))
    reading, examples, report = check_file(path)
    assert (reading.format, reading.encoding) == ("jsonl", "utf-8")
    vertex, studio, openai = examples
    assert vertex.system == "丁寧に答えてください。"
    assert vertex.turns == (
        Turn("user", "営業時間は？"),
        Turn("model", "平日9時から18時までです。"),
        Turn("user", "土曜日は？"),
        Turn("model", "休業日です。"),
    )
    assert vertex.columns["turns.1"] == "contents[1].parts"
    assert studio.turns == (
        Turn("user", "返品できますか？"),
        Turn("model", "8日以内なら承ります。"),
    )
    assert openai.system == "You are a support agent."
    assert openai.turns == (Turn("user", "Where is my order?"), Turn("model", "It ships tomorrow."))
    assert [e.row for e in examples] == [1, 2, 3]
    assert report.findings == []
    assert report.stats["multi_turn"] == 1


def test_inspect_jsonl_shows_examples(tmp_path: Path) -> None:
    inspection = inspect_file(write(tmp_path, "x.jsonl", jsonl([AI_STUDIO, OPENAI])))
    assert inspection.format == "jsonl"
    assert [len(e.turns) for e in inspection.examples] == [2, 2]
    assert inspection.headers == ()
    assert inspection.confidence == 1.0


def test_split_and_tag_keys_are_read(tmp_path: Path) -> None:
    lines = [{**AI_STUDIO, "split": "検証", "tag": "返品"}, {**AI_STUDIO, "split": "holdout"}]
    _reading, examples, report = check_file(write(tmp_path, "x.jsonl", jsonl(lines)))
    assert [(e.split, e.tag) for e in examples] == [("validation", "返品"), (None, "")]
    [unknown] = only(report, "unknown_split")
    assert (unknown.row, unknown.params["value"]) == (2, "holdout")


def test_images_and_function_calls_are_reported_not_read(tmp_path: Path) -> None:
    line = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "この画像は？"},
                    {"inlineData": {"mimeType": "image/png", "data": "AAAA"}},
                ],
            },
            {"role": "model", "parts": [{"text": "猫です。"}]},
        ]
    }
    _reading, examples, report = check_file(write(tmp_path, "x.jsonl", jsonl([line])))
    assert examples[0].turns[0].text == "この画像は？"
    [part] = only(report, "unsupported_part")
    assert (part.column, part.params) == ("contents[0].parts[1]", {"part": 2, "kind": "image"})


def test_structural_mistakes_are_findings(tmp_path: Path) -> None:
    lines = [
        {"contents": "not a list"},
        {"messages": [{"role": "user"}, "oops", {"role": "assistant", "content": None}]},
        {"contents": [{"parts": [{"text": "q"}]}, {"role": "model", "parts": [{"text": "a"}]}]},
    ]
    _reading, _examples, report = check_file(write(tmp_path, "x.jsonl", jsonl(lines)))
    assert [f.row for f in only(report, "unknown_schema")] == [1]
    assert {(f.code, f.row) for f in report.findings} >= {
        ("empty_input", 2),
        ("bad_role", 2),
        ("empty_output", 2),
        ("bad_role", 3),
    }


def test_invalid_lines_do_not_stop_reading(tmp_path: Path) -> None:
    data = (
        jsonl([AI_STUDIO])
        + b'{"text_input": "unterminated\n'
        + b"[1, 2\n"
        + "\ufeff".encode()
        + b"\n"
        + jsonl([AI_STUDIO])
    )
    _reading, examples, report = check_file(write(tmp_path, "x.jsonl", data))
    assert [e.row for e in examples] == [1, 5]
    errors = {f.row: f.params["error"] for f in only(report, "invalid_json")}
    assert errors == {2: "Unterminated string starting at", 3: "Expecting ',' delimiter"}


def test_a_json_array_file_and_deep_nesting(tmp_path: Path) -> None:
    nested = b"[" * 100_000 + b"]" * 100_000 + b"\n"
    _reading, examples, report = check_file(write(tmp_path, "deep.jsonl", nested))
    assert examples == []
    [finding] = report.findings
    assert finding.code in ("invalid_json", "unknown_schema")
    deep_object = b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"\n"
    _reading, _examples, report = check_file(write(tmp_path, "deep2.jsonl", deep_object))
    [finding] = report.findings
    assert finding.code == "invalid_json"
    assert finding.params["error"] == "nested too deeply"


def test_a_line_beyond_the_size_limit_is_skipped(tmp_path: Path) -> None:
    from app.datasets.reading.jsonl_reader import MAX_LINE_CHARS

    huge = b'{"text_input": "' + b"x" * MAX_LINE_CHARS + b'", "output": "a"}\n'
    data = jsonl([AI_STUDIO]) + huge + jsonl([VERTEX])
    _reading, examples, report = check_file(write(tmp_path, "big.jsonl", data))
    assert [e.row for e in examples] == [1, 3]
    [finding] = report.findings
    assert (finding.code, finding.row) == ("row_too_large", 2)
