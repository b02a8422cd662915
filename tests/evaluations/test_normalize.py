"""Comparison keys, sanitising and the CJK-aware tokenizers."""

from __future__ import annotations

import pytest

from app.evaluations.scoring.normalize import (
    bleu_char_tokens,
    has_cjk,
    looks_japanese,
    metric_tokens,
    sanitize,
)


class TestSanitize:
    def test_ordinary_text_is_unchanged(self) -> None:
        text = "東京都の天気\tは\n晴れ\u3000です。 Zoom😀 café"
        assert sanitize(text) == text

    def test_control_characters_and_surrogates(self) -> None:
        # NUL would cut MeCab's input short; a lone surrogate would make it raise.
        assert sanitize("a\x00b\x1b\x7f\x85c\ud800d") == "a b   c\ufffdd"


class TestTokens:
    def test_kana_and_kanji_are_one_token_each_words_stay_whole(self) -> None:
        assert metric_tokens("Zoomのリンクを3日後に送ります。") == [
            "zoom",
            "の",
            "リ",
            "ン",
            "ク",
            "を",
            "3",
            "日",
            "後",
            "に",
            "送",
            "り",
            "ま",
            "す",
        ]

    def test_width_and_case_are_folded(self) -> None:
        assert metric_tokens("ＡＰＩキー ｶﾞｲﾄﾞ") == ["api", "キ", "ー", "ガ", "イ", "ド"]

    def test_punctuation_symbols_and_emoji_are_not_tokens(self) -> None:
        assert metric_tokens("「はい」！😀 ok?") == ["は", "い", "ok"]

    def test_non_ascii_latin_words_are_kept(self) -> None:
        assert metric_tokens("Café Zürich") == ["café", "zürich"]

    def test_rare_kanji_outside_the_basic_plane(self) -> None:
        assert metric_tokens("𠮷野家") == ["𠮷", "野", "家"]

    def test_bleu_fallback_keeps_punctuation_as_tokens(self) -> None:
        tokens = bleu_char_tokens("Zoomのリンク、OK.")
        assert tokens == ["Zoom", "の", "リ", "ン", "ク", "、", "OK", "."]


class TestLanguage:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("返品の送料は誰が負担しますか？", True),
            ("パスワード", True),
            ("東京大阪", True),  # kanji only
            ("Who pays for returns?", False),
            ("Is the 東京 office open?", False),  # an English question naming a place
            ("", False),
        ],
    )
    def test_looks_japanese(self, text: str, expected: bool) -> None:
        assert looks_japanese(text) is expected

    def test_has_cjk(self) -> None:
        assert has_cjk("Zoomのリンク")
        assert not has_cjk("Zoom link")
