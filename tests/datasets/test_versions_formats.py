"""The downloads besides the Vertex file: OpenAI chat JSONL and a CSV safe to open in Excel."""

from __future__ import annotations

import csv
import io
import json

import pytest

from app.datasets.versions import formats


def test_openai_lines_map_roles_and_keep_the_system_instruction() -> None:
    line = formats.openai_line(
        "Answer politely.",
        [
            {"role": "user", "text": "Hi"},
            {"role": "model", "text": "Hello!"},
            {"role": "user", "text": "Price?"},
            {"role": "model", "text": "¥500"},
        ],
    )
    assert line == {
        "messages": [
            {"role": "system", "content": "Answer politely."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Price?"},
            {"role": "assistant", "content": "¥500"},
        ]
    }
    assert "system" not in json.dumps(formats.openai_line("  ", [{"role": "user", "text": "x"}]))


@pytest.mark.parametrize(
    ("cell", "escaped"),
    [
        ("=SUM(A1:A3)", "'=SUM(A1:A3)"),
        ("+81 3 1234", "'+81 3 1234"),
        ("-5 points", "'-5 points"),
        ("@here", "'@here"),
        ("\tindent", "'\tindent"),
        ('＝HYPERLINK("x")', '\'＝HYPERLINK("x")'),  # full-width: Excel normalises it
        ("ご注文ありがとうございます", "ご注文ありがとうございます"),
        ("", ""),
    ],
)
def test_formulas_are_neutralised(cell: str, escaped: str) -> None:
    assert formats.escape_formula(cell) == escaped


def test_csv_has_a_bom_a_header_and_one_row_per_example() -> None:
    rows = [
        (
            1,
            "train",
            {
                "system_instruction": "",
                "tag": "billing",
                "turns": [
                    {"role": "user", "text": "=1+1"},
                    {"role": "model", "text": '二です,\n"本当"'},
                ],
            },
        ),
        (
            2,
            "test",
            {
                "system_instruction": "Be brief.",
                "tag": None,
                "turns": [
                    {"role": "user", "text": "a"},
                    {"role": "model", "text": "b"},
                    {"role": "user", "text": "c"},
                    {"role": "model", "text": "d"},
                ],
            },
        ),
    ]
    text = "".join(formats.csv_lines(rows))
    assert text.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert parsed[0] == list(formats.CSV_COLUMNS)
    assert parsed[1] == ["1", "train", "billing", "", "'=1+1", '二です,\n"本当"', ""]
    assert parsed[2][:6] == ["2", "test", "", "Be brief.", "a\nc", "d"]
    assert json.loads(parsed[2][6])[2] == {"role": "user", "text": "c"}
