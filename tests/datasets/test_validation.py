"""Checks of one example: garbled text, invisible characters, whitespace, roles."""

from __future__ import annotations

import pytest

from app.datasets.quality.validation import validate_example
from app.datasets.records import ExampleDraft, Turn


def _codes(question: str, answer: str = "はい、承知しました。", system: str = "") -> set[str]:
    example = ExampleDraft(
        row=2, system=system, turns=(Turn("user", question), Turn("model", answer))
    )
    found, _tokens = validate_example(example, max_tokens=131_072)
    return {f.code for f in found}


@pytest.mark.parametrize(
    "garbled",
    [
        "こんにちは、お問い合わせありがとうございます".encode().decode("cp932", errors="replace"),
        "ありがとうございます".encode().decode("latin-1"),
        "ありがとうございます".encode().decode("cp1252", errors="replace"),
        "こんにちは".encode("cp932").decode("cp1252", errors="replace"),
        "Ã©tÃ© Ã  Paris",
        "壊れた\ufffd文字",
        "外字\ue000を含む",
    ],
)
def test_mojibake(garbled: str) -> None:
    assert "mojibake" in _codes(garbled)


@pytest.mark.parametrize(
    "clean",
    [
        "café, naïve résumé, Ça va? Übermäßig große Straße",
        "¿Qué tal? ¡Muy bien!",
        "繧繝彩色は平安時代から使われてきた彩色技法で、同系色を段階的に並べて表現します。",
        "東京都の明日の天気は晴れです。ＡＢＣ１２３ ｶﾞｲﾄﾞ",
        "👨\u200d👩\u200d👧 家族の絵文字",
        "第1行目\n第2行目\r\n第3行目\tタブ",
    ],
)
def test_clean_text_raises_nothing(clean: str) -> None:
    assert _codes(clean) == set()


def test_control_characters_are_named() -> None:
    example = ExampleDraft(
        row=2,
        system="指示\u202e逆向き",
        turns=(Turn("user", "ゼロ幅\u200bスペースと\x0cフォームフィード"), Turn("model", "答え")),
    )
    found, _tokens = validate_example(example, max_tokens=100)
    chars = {f.params["field"]: f.params["chars"] for f in found if f.code == "control_chars"}
    assert chars == {"input": "U+000C, U+200B", "system": "U+202E"}


def test_roles_and_order_in_one_example() -> None:
    example = ExampleDraft(row=9, system="", turns=(Turn("user", "q"), Turn("bot", "a")))
    found, _tokens = validate_example(example, max_tokens=100)
    assert [(f.code, f.params.get("role")) for f in found] == [
        ("bad_role", "bot"),
        ("empty_output", None),
    ]


def test_token_count_is_returned() -> None:
    example = ExampleDraft(row=1, system="", turns=(Turn("user", "abcd"), Turn("model", "あ")))
    _found, tokens = validate_example(example, max_tokens=100)
    assert tokens == 1 + 4 + 1 + 4
