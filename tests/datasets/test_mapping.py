"""Column mapping guessed from English and Japanese headers, remembered, and resolved."""

from __future__ import annotations

import pytest

from app.datasets.reading.column_mapping import (
    ColumnMapping,
    column_letter,
    guess_mapping,
    normalize_split,
    resolve_column,
)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["prompt", "response"], {"input": "prompt", "output": "response"}),
        (
            ["Question", "Answer", "Category"],
            {"input": "Question", "output": "Answer", "tag": "Category"},
        ),
        (
            ["お客様の質問", "模範回答", "システム指示", "分割"],
            {
                "input": "お客様の質問",
                "output": "模範回答",
                "system": "システム指示",
                "split": "分割",
            },
        ),
        (
            ["No.", "入力", "出力", "カテゴリ"],
            {"input": "入力", "output": "出力", "tag": "カテゴリ"},
        ),
        (
            ["instruction", "input", "output"],
            {"system": "instruction", "input": "input", "output": "output"},
        ),
        (
            ["System Prompt", "User Input", "Ideal Answer"],
            {"system": "System Prompt", "input": "User Input", "output": "Ideal Answer"},
        ),
        (
            ["ＱＵＥＳＴＩＯＮ", "ＡＮＳＷＥＲ"],
            {"input": "ＱＵＥＳＴＩＯＮ", "output": "ＡＮＳＷＥＲ"},
        ),
    ],
)
def test_guesses_from_english_and_japanese_headers(
    headers: list[str], expected: dict[str, str]
) -> None:
    guess = guess_mapping(headers)
    assert {k: v for k, v in guess.mapping.to_dict().items() if v} == expected
    assert guess.overall == 1.0
    assert not guess.by_position


def test_partial_names_are_less_certain_than_exact_ones() -> None:
    guess = guess_mapping(["お客様からの質問内容", "回答例"])
    assert (guess.mapping.input, guess.mapping.output) == ("お客様からの質問内容", "回答例")
    assert guess.confidence == {"input": 0.7, "output": 0.7}


def test_unknown_headers_fall_back_to_position_with_low_confidence() -> None:
    guess = guess_mapping(["A列", "B列", "メモ"])
    assert (guess.mapping.input, guess.mapping.output) == ("A列", "B列")
    assert guess.by_position
    assert guess.overall == 0.3


def test_mapping_round_trip_for_storage() -> None:
    mapping = ColumnMapping(input="質問", output="回答", split="分割")
    stored = mapping.to_dict()
    assert stored == {
        "input": "質問",
        "output": "回答",
        "system": None,
        "split": "分割",
        "tag": None,
    }
    assert ColumnMapping.from_dict(stored) == mapping
    assert ColumnMapping.from_dict({"input": "q", "output": "", "junk": 1}) == ColumnMapping(
        input="q"
    )
    assert mapping.with_columns(output="答え", system=None).output == "答え"


@pytest.mark.parametrize(
    ("spec", "index"),
    [
        ("回答", 1),
        ("ｑｕｅｓｔｉｏｎ", 0),
        ("B", 1),
        ("c", 2),
        ("3", 2),
        ("D", None),
        ("0", None),
        ("nothing", None),
    ],
)
def test_resolve_column_by_name_letter_or_number(spec: str, index: int | None) -> None:
    assert resolve_column(spec, ["question", "回答", "note"]) == index


def test_column_letters_like_excel() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 51, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AZ",
        "ZZ",
        "AAA",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("train", ("train", True)),
        ("Training", ("train", True)),
        ("学習", ("train", True)),
        ("訓練", ("train", True)),
        ("検証", ("validation", True)),
        ("VALID", ("validation", True)),
        ("テスト", ("test", True)),
        ("評価", ("test", True)),
        ("ｔｅｓｔ", ("test", True)),
        ("", (None, True)),
        ("  ", (None, True)),
        ("holdout", (None, False)),
    ],
)
def test_split_values_and_japanese_synonyms(value: str, expected: tuple[str | None, bool]) -> None:
    assert normalize_split(value) == expected
