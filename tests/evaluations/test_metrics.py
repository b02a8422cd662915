"""Per-item metrics on known Japanese, English and mixed pairs: hand computations and sacrebleu
cross-checks (data-quality §4)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
import sacrebleu
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
from sacrebleu.tokenizers.tokenizer_ja_mecab import TokenizerJaMecab

from app.evaluations.scoring.metrics import (
    bleu_tokenizer_for,
    chrf,
    corpus_bleu,
    exact_match,
    lcs_length,
    length_ratio,
    mecab_available,
    rouge_l,
    score_item,
    sentence_bleu,
)
from app.evaluations.scoring.normalize import comparison_key, metric_tokens

WEATHER = "東京都の明日の天気は晴れです。"
# A Japanese pair with no spaces: one word swapped (配送→発送), one inserted (営業).
DELIVERY_REF = "配送は3日以内です。"
DELIVERY_OUT = "発送は3営業日以内です。"
CAT_REF = "The cat sat on the mat."
CAT_OUT = "A cat was sitting on the mat."


def geometric_bleu(precisions: list[Fraction], brevity: float = 1.0) -> float:
    """BLEU by hand: brevity penalty × geometric mean of the n-gram precisions, × 100."""
    product = math.prod(float(p) for p in precisions)
    return 100 * brevity * product ** (1 / len(precisions))


class TestMecabInstalled:
    def test_mecab_is_the_japanese_tokenizer(self) -> None:
        # sacrebleu[ja] is a main dependency: MeCab must load here, offline.
        assert mecab_available()
        assert bleu_tokenizer_for(WEATHER, "") == "ja-mecab"
        assert bleu_tokenizer_for("only English", "also English") == "13a"
        assert bleu_tokenizer_for("English reference", "日本語の回答") == "ja-mecab"
        assert bleu_tokenizer_for(WEATHER, WEATHER, mecab=False) == "ja-char"


class TestIdenticalJapanese:
    def test_identical_japanese_scores_full_marks_everywhere(self) -> None:
        scores = score_item(WEATHER, WEATHER)
        assert scores.exact_match is True
        assert scores.chrf == 100.0
        assert scores.bleu == 100.0
        assert scores.rouge_l == 1.0
        assert scores.length_ratio == 1.0
        assert scores.bleu_tokenizer.startswith("ja-mecab")
        assert scores.json_check is None

    def test_rouge_score_default_tokenizer_bug_is_not_reproduced(self) -> None:
        # rouge-score's default tokenizer keeps only [a-z0-9]: this sentence has no tokens there
        # and identical Japanese strings score 0. Ours keeps every character.
        assert metric_tokens(WEATHER) == list("東京都の明日の天気は晴れです")
        assert rouge_l(WEATHER, WEATHER) == 1.0

    def test_sharing_only_a_digit_is_not_a_perfect_match(self) -> None:
        # Default rouge-score sees only "3" in both and says 1.0. By hand: tokens
        # 3 日 後 に 届 き ま す (8) vs 3 名 様 ま で で す (7); LCS 3·ま·す = 3;
        # P = 3/7, R = 3/8, F = 2PR/(P+R) = 0.4.
        assert rouge_l("3日後に届きます", "3名様までです") == pytest.approx(0.4)


class TestJapaneseWithoutSpaces:
    def test_mecab_segments_the_pair(self) -> None:
        tokenize = TokenizerJaMecab()
        assert tokenize(DELIVERY_REF) == "配送 は 3 日 以内 です 。"
        assert tokenize(DELIVERY_OUT) == "発送 は 3 営業 日 以内 です 。"

    def test_bleu_matches_hand_computation_and_sacrebleu(self) -> None:
        # 7 reference / 8 answer morphemes. Matches: 1-grams は 3 日 以内 です 。 = 6/8;
        # 2-grams は3, 日以内, 以内です, です。 = 4/7; 3-grams 日以内です, 以内です。 = 2/6;
        # 4-gram 日以内です。 = 1/5. The answer is longer, so no brevity penalty.
        expected = geometric_bleu([Fraction(6, 8), Fraction(4, 7), Fraction(2, 6), Fraction(1, 5)])
        result = sentence_bleu(DELIVERY_REF, DELIVERY_OUT)
        assert result.score == pytest.approx(expected)
        assert result.score == pytest.approx(41.113, abs=1e-3)
        assert result.stats.correct == (6, 4, 2, 1)
        assert result.stats.total == (8, 7, 6, 5)
        assert result.tokenizer == "ja-mecab-0.996-IPA"
        reference = sacrebleu.sentence_bleu(DELIVERY_OUT, [DELIVERY_REF], tokenize="ja-mecab")
        assert result.score == pytest.approx(reference.score)

    def test_english_tokenizer_would_give_zero(self) -> None:
        # Why 13a is never used for Japanese: each sentence is one "word", so BLEU is 0.
        wrong = sacrebleu.sentence_bleu(DELIVERY_OUT, [DELIVERY_REF], tokenize="13a")
        assert wrong.score == 0.0
        assert sentence_bleu(DELIVERY_REF, DELIVERY_OUT).score > 40

    def test_rouge_l_matches_hand_computation(self) -> None:
        # 配送は3日以内です (9 tokens) vs 発送は3営業日以内です (11): LCS 送は3日以内です = 8.
        # P = 8/11, R = 8/9, F = 2PR/(P+R) = 128/160 = 0.8.
        assert rouge_l(DELIVERY_REF, DELIVERY_OUT) == pytest.approx(0.8)

    def test_chrf_matches_hand_computation_and_sacrebleu(self) -> None:
        # 晴れです vs 晴れでした, character n-grams. n=1: 3/5 precise, 3/4 recalled;
        # n=2: 2/4, 2/3; n=3: 1/3, 1/2; n=4: 0/2, 0/1; n≥5: no reference n-grams (not counted).
        # chrF2 = 5·P·R / (4·P + R) over the mean P and R of the four orders.
        precision = (Fraction(3, 5) + Fraction(2, 4) + Fraction(1, 3) + 0) / 4
        recall = (Fraction(3, 4) + Fraction(2, 3) + Fraction(1, 2) + 0) / 4
        expected = float(100 * 5 * precision * recall / (4 * precision + recall))
        assert chrf("晴れです", "晴れでした") == pytest.approx(expected)
        assert expected == pytest.approx(44.889, abs=1e-3)
        cross = sacrebleu.sentence_chrf(DELIVERY_OUT, [DELIVERY_REF]).score
        assert chrf(DELIVERY_REF, DELIVERY_OUT) == pytest.approx(cross)

    def test_character_fallback_without_mecab(self) -> None:
        # Without MeCab, kana/kanji are one token each; on text without Latin words or spaces
        # that is exactly sacrebleu's "char" tokenizer.
        ref, out = "配送は3日以内です", "発送は3営業日以内です"
        fallback = sentence_bleu(ref, out, tokenizer="ja-char")
        char = sacrebleu.sentence_bleu(out, [ref], tokenize="char", use_effective_order=True)
        assert fallback.tokenizer == "ja-char"
        assert fallback.score == pytest.approx(char.score)
        assert fallback.score > 0


class TestEnglishAndMixed:
    def test_english_paraphrase_bleu_by_hand_and_sacrebleu(self) -> None:
        # 13a: "The cat sat on the mat ." (7) vs "A cat was sitting on the mat ." (8).
        # Matches: cat on the mat . = 5/8; on the, the mat, mat . = 3/7;
        # on the mat, the mat . = 2/6; on the mat . = 1/5.
        expected = geometric_bleu([Fraction(5, 8), Fraction(3, 7), Fraction(2, 6), Fraction(1, 5)])
        result = sentence_bleu(CAT_REF, CAT_OUT)
        assert result.tokenizer == "13a"
        assert result.score == pytest.approx(expected)
        cross = sacrebleu.sentence_bleu(CAT_OUT, [CAT_REF], tokenize="13a")
        assert result.score == pytest.approx(cross.score)

    def test_english_paraphrase_rouge_l_by_hand(self) -> None:
        # the cat sat on the mat (6) vs a cat was sitting on the mat (7): LCS cat on the mat = 4.
        # P = 4/7, R = 4/6, F = 32/52.
        assert rouge_l(CAT_REF, CAT_OUT) == pytest.approx(32 / 52)

    def test_english_brevity_penalty(self) -> None:
        # "the cat" against a 6-token reference: all n-grams match, BP = exp(1 - 6/2).
        result = sentence_bleu("the cat sat on the mat", "the cat")
        assert result.score == pytest.approx(100 * math.exp(1 - 6 / 2))

    def test_mixed_text_uses_mecab_for_both_scripts(self) -> None:
        ref, out = "Zoomのリンクは明日送ります。", "Zoomのリンクは本日お送りします。"
        result = sentence_bleu(ref, out)
        assert result.tokenizer.startswith("ja-mecab")
        assert TokenizerJaMecab()(ref) == "Zoom の リンク は 明日 送り ます 。"
        assert 0 < result.score < 100
        assert metric_tokens(ref)[:2] == ["zoom", "の"]  # the English word stays whole
        assert 0 < rouge_l(ref, out) < 1

    def test_case_and_width_do_not_matter_to_rouge_l(self) -> None:
        assert rouge_l("Ｐｌｅａｓｅ ＣＨＥＣＫ", "please check") == 1.0


class TestCorpusBleu:
    JAPANESE = [
        (WEATHER, "東京都の明日の天気は晴れでしょう。"),
        (DELIVERY_REF, DELIVERY_OUT),
        ("ご注文ありがとうございます。", "ご注文いただきありがとうございます。"),
    ]
    ENGLISH = [
        (CAT_REF, CAT_OUT),
        ("Your order ships in three days.", "Your order will ship within three days."),
        ("Please reset your password.", "Reset your password, please."),
    ]

    def test_japanese_corpus_equals_sacrebleu_with_mecab(self) -> None:
        refs, outs = zip(*self.JAPANESE, strict=True)
        ours = corpus_bleu(refs, outs)
        theirs = sacrebleu.corpus_bleu(list(outs), [list(refs)], tokenize="ja-mecab")
        assert ours.score == pytest.approx(theirs.score)
        assert ours.tokenizer == "ja-mecab-0.996-IPA"

    def test_english_corpus_equals_sacrebleu_with_13a(self) -> None:
        refs, outs = zip(*self.ENGLISH, strict=True)
        ours = corpus_bleu(refs, outs)
        theirs = sacrebleu.corpus_bleu(list(outs), [list(refs)], tokenize="13a")
        assert ours.score == pytest.approx(theirs.score)
        assert ours.tokenizer == "13a"

    def test_mixed_corpus_sums_each_language_with_its_tokenizer(self) -> None:
        pairs = self.JAPANESE + self.ENGLISH
        refs, outs = zip(*pairs, strict=True)
        ours = corpus_bleu(refs, outs)
        assert ours.tokenizer == "13a+ja-mecab-0.996-IPA"
        ja = [sacrebleu.corpus_bleu([o], [[r]], tokenize="ja-mecab") for r, o in self.JAPANESE]
        en = [sacrebleu.corpus_bleu([o], [[r]], tokenize="13a") for r, o in self.ENGLISH]
        parts = ja + en
        correct = [sum(p.counts[n] for p in parts) for n in range(4)]
        total = [sum(p.totals[n] for p in parts) for n in range(4)]
        expected = sacrebleu.BLEU.compute_bleu(
            correct,
            total,
            sum(p.sys_len for p in parts),
            sum(p.ref_len for p in parts),
            smooth_method="exp",
        )
        assert ours.score == pytest.approx(expected.score)

    def test_mismatched_lengths_are_refused(self) -> None:
        with pytest.raises(ValueError, match="2 references but 1 answers"):
            corpus_bleu(["a", "b"], ["a"])


class TestExactMatchAndLength:
    @pytest.mark.parametrize(
        ("reference", "output"),
        [
            ("はい。", "はい"),
            ("Yes.", "yes"),
            ("ＡＢＣ１２３", "abc123"),
            ("ﾊﾟｽﾜｰﾄﾞ", "パスワード"),
            ("東京\u3000 大阪", "東京 大阪"),
            ("9時〜17時", "9時～17時"),  # wave dash and full-width tilde look the same
            ("  line one\r\nline two  ", "line one line two"),
        ],
    )
    def test_equal_after_normalisation(self, reference: str, output: str) -> None:
        assert exact_match(reference, output)

    @pytest.mark.parametrize(
        ("reference", "output"),
        [("はい", "いいえ"), ("3日", "3 日間"), ("ー", "-"), ("Yes!", "yes")],
    )
    def test_different_answers(self, reference: str, output: str) -> None:
        assert not exact_match(reference, output)

    def test_comparison_key(self) -> None:
        assert comparison_key("  Ｈｅｌｌｏ,   World。。 ") == "hello, world"

    def test_length_ratio_counts_normalised_characters(self) -> None:
        assert length_ratio("はい", "はい、そうです") == pytest.approx(7 / 2)
        assert length_ratio("abcd", "ab") == pytest.approx(0.5)
        assert length_ratio("", "") == 1.0
        assert length_ratio("", "something") is None


class TestLcs:
    @pytest.mark.parametrize(
        ("first", "second", "expected"),
        [
            ("", "abc", 0),
            ("abc", "abc", 3),
            ("abcbdab", "bdcaba", 4),  # the textbook example (Cormen et al.)
            ("aaaa", "aa", 2),
            ("xyz", "abc", 0),
        ],
    )
    def test_known_lengths(self, first: str, second: str, expected: int) -> None:
        assert lcs_length(list(first), list(second)) == expected
        assert lcs_length(list(second), list(first)) == expected


class TestWorkerMemory:
    def test_scoring_does_not_fill_sacrebleus_tokenizer_caches(self) -> None:
        # sacrebleu caches 65,536 tokenized lines per tokenizer for the life of the process
        # (hundreds of MB in a worker); our BLEU tokenizes through the uncached functions.
        caches = (TokenizerJaMecab.__call__, Tokenizer13a.__call__)
        before = [call.cache_info().currsize for call in caches]
        for number in range(50):
            score_item(f"{number}番目の質問への回答です。", f"{number}番目の回答です。")
            score_item(f"Answer number {number}.", f"This is answer {number}.")
        assert [call.cache_info().currsize for call in caches] == before


class TestScoreItemStorage:
    def test_scores_round_trip_through_json(self) -> None:
        scores = score_item('{"a": 1}', '{"a": "x", "b": 2}')
        restored = type(scores).model_validate_json(scores.model_dump_json())
        assert restored == scores
        assert restored.json_check is not None
        assert restored.json_check.problem_count == 2
