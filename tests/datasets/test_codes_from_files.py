"""Every finding code the issue requires, detected on a file built for it, at the row the user
sees in their own tool (spreadsheet row with the header as row 1, or JSONL line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.datasets.quality.checks import CheckOptions
from tests.datasets.support import check_file, excel_csv, jsonl, only, workbook, write

HEADER = ["質問", "回答"]


def _csv(tmp_path: Path, rows: list[list[str]], encoding: str = "cp932") -> Path:
    return write(tmp_path, "data.csv", excel_csv([HEADER, *rows], encoding))


def test_invalid_json_reports_the_parsers_position(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "data.jsonl",
        jsonl([{"text_input": "a", "output": "b"}]) + b'{"text_input": "a" "output": "b"}\n',
    )
    _reading, _examples, report = check_file(path)
    [finding] = only(report, "invalid_json")
    assert finding.row == 2
    assert finding.params["col"] == 20  # where the comma is missing
    assert finding.params["error"] == "Expecting ',' delimiter"
    assert finding.severity == "error"
    assert report.rows == 2
    assert report.usable == 1


def test_unknown_schema_names_the_keys_found(tmp_path: Path) -> None:
    path = write(tmp_path, "data.jsonl", jsonl([{"question": "q", "answer": "a"}, [1, 2]]))
    _reading, _examples, report = check_file(path)
    first, second = only(report, "unknown_schema")
    assert (first.row, first.params["keys"]) == (1, "question, answer")
    assert (second.row, second.params["keys"]) == (2, "(list)")
    assert report.usable == 0


@pytest.mark.parametrize(
    ("input_text", "output_text", "code", "column"),
    [
        ("", "答えです", "empty_input", "質問"),
        ("   ", "答えです", "empty_input", "質問"),
        ("質問です", "", "empty_output", "回答"),
        ("質問です", "\u3000 \n", "empty_output", "回答"),
    ],
)
def test_empty_cells(
    tmp_path: Path, input_text: str, output_text: str, code: str, column: str
) -> None:
    path = _csv(tmp_path, [["ok", "fine"], [input_text, output_text]])
    _reading, _examples, report = check_file(path)
    [finding] = only(report, code)
    assert (finding.row, finding.column, finding.severity) == (3, column, "error")


def test_missing_output_key_in_ai_studio_line_is_empty_output(tmp_path: Path) -> None:
    path = write(tmp_path, "data.jsonl", jsonl([{"text_input": "q"}]))
    _reading, _examples, report = check_file(path)
    assert [(f.row, f.column) for f in only(report, "empty_output")] == [(1, "output")]


def test_bad_role_in_each_chat_schema(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "data.jsonl",
        jsonl(
            [
                {
                    "contents": [
                        {"role": "user", "parts": [{"text": "q"}]},
                        {"role": "assistant", "parts": [{"text": "a"}]},
                    ]
                },
                {
                    "messages": [
                        {"role": "user", "content": "q"},
                        {"role": "tool", "content": "x"},
                        {"role": "assistant", "content": "a"},
                    ]
                },
            ]
        ),
    )
    _reading, _examples, report = check_file(path)
    found = [(f.row, f.column, f.params["role"]) for f in only(report, "bad_role")]
    assert found == [(1, "contents[1].parts", "assistant"), (2, "messages[1].content", "tool")]


@pytest.mark.parametrize(
    ("turns", "reason"),
    [
        ([("model", "a"), ("user", "q")], "first_not_user"),
        ([("user", "q"), ("user", "q2"), ("model", "a")], "not_alternating"),
        ([("user", "q"), ("model", "a"), ("user", "q2")], "last_not_model"),
    ],
)
def test_bad_role_order(tmp_path: Path, turns: list[tuple[str, str]], reason: str) -> None:
    contents = [{"role": role, "parts": [{"text": text}]} for role, text in turns]
    path = write(tmp_path, "data.jsonl", jsonl([{"contents": contents}]))
    _reading, _examples, report = check_file(path)
    [finding] = only(report, "bad_role_order")
    assert (finding.row, finding.params["reason"]) == (1, reason)


def test_system_message_after_the_conversation_is_out_of_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "data.jsonl",
        jsonl(
            [
                {
                    "messages": [
                        {"role": "user", "content": "q"},
                        {"role": "system", "content": "be brief"},
                        {"role": "assistant", "content": "a"},
                    ]
                }
            ]
        ),
    )
    _reading, examples, report = check_file(path)
    [finding] = only(report, "bad_role_order")
    assert finding.params["reason"] == "system_not_first"
    assert examples[0].system == "be brief"


def test_too_long_uses_the_models_limit(tmp_path: Path) -> None:
    long_answer = "長" * 131_100  # one token per kanji in the estimate
    path = _csv(tmp_path, [["短い質問", "短い答え"], ["質問", long_answer]])
    _reading, _examples, report = check_file(path)
    [finding] = only(report, "too_long")
    assert finding.row == 3
    assert finding.params["limit"] == 131_072
    assert int(finding.params["tokens"]) > 131_072
    _reading, _examples, tight = check_file(path, options=CheckOptions(max_tokens=5))
    assert {f.row for f in only(tight, "too_long")} == {2, 3}


def test_exact_duplicates_after_width_space_and_case_normalisation(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        [
            ["ABC の設定方法は？", "メニューから「設定」を開きます。"],
            ["別の質問", "別の答え"],
            ["ＡＢＣ\u3000の設定方法は?", "メニューから「設定」を開きます。"],
            ["abc  の設定方法は？", "メニューから「設定」を開きます。\n"],
        ],
    )
    _reading, _examples, report = check_file(path)
    found = {f.row: sorted(r.row for r in f.related_rows) for f in only(report, "exact_duplicate")}
    assert found == {2: [4, 5], 4: [2, 5], 5: [2, 4]}
    assert report.stats["exact_duplicate_groups"] == 1
    assert report.stats["duplicate_groups"] == [{"kind": "exact", "rows": [2, 4, 5]}]


def test_near_duplicates_above_the_configurable_similarity(tmp_path: Path) -> None:
    answer = (
        "ご注文の商品は通常、ご入金の確認後三営業日以内に発送いたします。お届けまでの日数は"
        "地域によって異なりますので、配送状況は会員ページからご確認ください。"
    )
    path = _csv(
        tmp_path,
        [
            ["配送にはどのくらいかかりますか？", answer],
            ["返品はできますか？", "未開封の商品に限り、到着後八日以内であれば返品を承ります。"],
            ["配送にはどのくらいかかりますか", answer.replace("三営業日", "3営業日")],
        ],
    )
    _reading, _examples, report = check_file(path)
    found = only(report, "near_duplicate")
    assert {(f.row, tuple(r.row for r in f.related_rows)) for f in found} == {(2, (4,)), (4, (2,))}
    assert all(0.8 <= float(f.params["similarity"]) < 1 for f in found)
    _reading, _examples, strict = check_file(
        path, options=CheckOptions(near_duplicate_threshold=0.99)
    )
    assert not only(strict, "near_duplicate")


def test_conflict_same_question_different_answers(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        [
            ["領収書は発行できますか？", "はい、マイページからダウンロードできます。"],
            ["領収書は発行できますか?", "申し訳ございませんが、領収書の発行は承っておりません。"],
            ["領収書は発行できますか？", "はい、マイページからダウンロードできます。"],
            ["配送料はいくらですか？", "全国一律500円です。"],
        ],
    )
    _reading, _examples, report = check_file(path)
    found = {f.row: sorted(r.row for r in f.related_rows) for f in only(report, "conflict")}
    assert found == {2: [3], 3: [2, 4], 4: [3]}
    assert report.stats["conflicts"] == [[2, 3, 4]]


@pytest.mark.parametrize(
    ("answer", "code", "matched"),
    [
        (
            "担当はtaro.yamada@example.co.jpまでご連絡ください。",
            "pii_email",
            "taro.yamada@example.co.jp",
        ),
        ("お電話は０３－１２３４－５６７８までどうぞ。", "pii_phone", "０３－１２３４－５６７８"),
        ("Call +1 (415) 555-2671 anytime.", "pii_phone", "+1 (415) 555-2671"),
        ("カード番号は4111 1111 1111 1111です。", "pii_credit_card", "4111 1111 1111 1111"),
        ("マイナンバーは123456789018です。", "pii_my_number", "123456789018"),
    ],
)
def test_personal_data_with_span(tmp_path: Path, answer: str, code: str, matched: str) -> None:
    path = _csv(tmp_path, [["連絡先を教えてください", answer]])
    _reading, examples, report = check_file(path)
    [finding] = only(report, code)
    assert (finding.row, finding.column) == (2, "回答")
    assert finding.span is not None
    field, start, end = finding.span
    assert field == "turns.1"
    assert examples[0].turns[1].text[start:end] == matched


def test_card_and_my_number_need_valid_check_digits(tmp_path: Path) -> None:
    path = _csv(tmp_path, [["番号", "カード4111 1111 1111 1112、番号123456789012です。"]])
    _reading, _examples, report = check_file(path)
    assert not [f for f in report.findings if f.code.startswith("pii_")]


def test_mojibake_from_a_utf8_file_opened_as_cp932(tmp_path: Path) -> None:
    garbled = "パスワードを忘れました".encode().decode("cp932", errors="replace")
    path = write(tmp_path, "data.csv", ("質問,回答\r\n" + f"{garbled},答え\r\n").encode())
    _reading, _examples, report = check_file(path)
    [finding] = only(report, "mojibake")
    assert (finding.row, finding.column) == (2, "質問")
    assert finding.params["sample"]


def test_mojibake_when_the_wrong_encoding_is_forced(tmp_path: Path) -> None:
    path = write(tmp_path, "data.csv", excel_csv([HEADER, ["請求書の再発行", "できます"]]))
    reading, _examples, report = check_file(path, encoding="utf-8", mapping=None)
    assert reading.encoding == "utf-8"
    assert only(report, "mojibake")  # undecodable bytes became U+FFFD


def test_non_text_values_in_excel_and_jsonl(tmp_path: Path) -> None:
    import datetime as dt

    data = workbook(
        {
            "Q&A": [
                ["input", "output"],
                ["電話番号は？", 312345678],
                ["締め日は？", dt.datetime(2024, 10, 15)],
                ["正しい？", True],
            ]
        }
    )
    _reading, _examples, report = check_file(write(tmp_path, "data.xlsx", data))
    found = [(f.row, f.params["kind"], f.params["text"]) for f in only(report, "non_text_value")]
    assert found == [(2, "number", "312345678"), (3, "date", "2024-10-15"), (4, "boolean", "TRUE")]
    path = write(tmp_path, "data.jsonl", jsonl([{"text_input": "答えは？", "output": 42}]))
    _reading, examples, report = check_file(path)
    [finding] = only(report, "non_text_value")
    assert (finding.row, finding.column, examples[0].turns[1].text) == (1, "output", "42")


def test_leading_and_trailing_whitespace(tmp_path: Path) -> None:
    path = _csv(tmp_path, [["\u3000質問です", "答えです \n"]])
    _reading, _examples, report = check_file(path)
    found = sorted((f.column, f.span) for f in only(report, "whitespace"))
    assert found == [("回答", ("turns.1", 4, 6)), ("質問", ("turns.0", 0, 1))]


def test_control_characters(tmp_path: Path) -> None:
    path = _csv(tmp_path, [["質問\u200bです", "答え\x07です"]], encoding="utf-8-sig")
    _reading, _examples, report = check_file(path)
    found = sorted((f.column, f.params["chars"], f.span) for f in only(report, "control_chars"))
    assert found == [("回答", "U+0007", ("turns.1", 2, 3)), ("質問", "U+200B", ("turns.0", 2, 3))]


def test_blank_lines_and_trailing_empty_rows_are_skipped_silently(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "data.csv",
        excel_csv([HEADER, ["q", "a"], ["", ""], ["q2", "a2"], ["", ""], [",", ""]][:-1]),
    )
    _reading, examples, report = check_file(path)
    assert [e.row for e in examples] == [2, 4]
    assert report.findings == []
    assert report.rows == 2
    lines = (
        jsonl([{"text_input": "q", "output": "a"}])
        + b"\n  \n"
        + jsonl([{"text_input": "q2", "output": "a2"}])
        + b"\n\n"
    )
    _reading, examples, report = check_file(write(tmp_path, "data.jsonl", lines))
    assert [e.row for e in examples] == [1, 4]
    assert report.findings == []
    sheets = workbook(
        {"S": [["input", "output"], ["q", "a"], [None, None], ["q2", "a2"], [None, None], ["", ""]]}
    )
    _reading, examples, report = check_file(write(tmp_path, "data.xlsx", sheets))
    assert [e.row for e in examples] == [2, 4]
    assert report.findings == []
