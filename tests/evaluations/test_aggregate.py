"""Set-level scores and their bootstrap intervals."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import sacrebleu

from app.evaluations.scoring.aggregate import (
    aggregate,
    bootstrap_estimate,
    resample_counts,
    resample_indices,
    vectorised_bleu,
)
from app.evaluations.scoring.metrics import BleuStats, ItemScores, bleu_from_stats, score_item

PAIRS = [
    ("東京都の明日の天気は晴れです。", "東京都の明日の天気は晴れでしょう。"),
    ("配送は3日以内です。", "発送は3営業日以内です。"),
    ("ご注文ありがとうございます。", "ご注文ありがとうございます。"),
    ("The cat sat on the mat.", "A cat was sitting on the mat."),
    ("Your order ships in three days.", "Your order will ship within three days."),
    ('{"status": "ok", "days": 3}', '{"status": "ok", "days": "3"}'),
    ('{"status": "ok"}', '{"status": "ng"}'),
    ("はい", ""),
]


def items_for(pairs: list[tuple[str, str]]) -> list[ItemScores]:
    return [score_item(reference, output) for reference, output in pairs]


class TestAggregate:
    def test_figures_match_their_definitions(self) -> None:
        items = items_for(PAIRS)
        result = aggregate(items)
        assert result.count == len(PAIRS)
        assert result.exact_match.value == pytest.approx(1 / 8)
        assert result.chrf.value == pytest.approx(np.mean([item.chrf for item in items]))
        assert result.rouge_l.value == pytest.approx(np.mean([item.rouge_l for item in items]))
        ratios = [item.length_ratio for item in items if item.length_ratio is not None]
        assert result.length_ratio.value == pytest.approx(float(np.median(ratios)))
        # Only the two JSON references count for the JSON figures; both answers parse, one has
        # the right shape.
        assert (result.json_valid.n, result.json_valid.value) == (2, 1.0)
        assert (result.json_shape.n, result.json_shape.value) == (2, 0.5)
        assert result.bleu_tokenizers == ("13a", "ja-mecab-0.996-IPA")

    def test_every_interval_contains_its_value(self) -> None:
        result = aggregate(items_for(PAIRS))
        for estimate in (
            result.exact_match,
            result.chrf,
            result.bleu,
            result.rouge_l,
            result.length_ratio,
            result.json_valid,
            result.json_shape,
        ):
            assert estimate.low is not None
            assert estimate.high is not None
            assert estimate.value is not None
            assert estimate.low <= estimate.value <= estimate.high

    def test_corpus_bleu_of_a_japanese_set_equals_sacrebleu(self) -> None:
        japanese = PAIRS[:3]
        result = aggregate(items_for(japanese))
        refs = [reference for reference, _output in japanese]
        outs = [output for _reference, output in japanese]
        expected = sacrebleu.corpus_bleu(outs, [refs], tokenize="ja-mecab").score
        assert result.bleu.value == pytest.approx(expected)

    def test_same_seed_same_interval_other_seed_other_interval(self) -> None:
        items = items_for(PAIRS)
        assert aggregate(items) == aggregate(items)
        assert aggregate(items, seed=1).chrf != aggregate(items, seed=2).chrf

    def test_empty_set(self) -> None:
        result = aggregate([])
        assert result.count == 0
        assert result.chrf.value is None
        assert result.chrf.n == 0
        assert result.bleu.value is None
        assert result.bleu_tokenizers == ()

    def test_five_thousand_items_aggregate_quickly(self) -> None:
        base = items_for(PAIRS)
        items = [base[i % len(base)] for i in range(5000)]
        started = time.perf_counter()
        result = aggregate(items)
        elapsed = time.perf_counter() - started
        assert result.count == 5000
        assert elapsed < 5.0  # about 0.5 s on the 2-core development machine; see bench/


class TestBootstrap:
    def test_mean_interval_of_a_coin_matches_the_normal_approximation(self) -> None:
        values = [1.0] * 200 + [0.0] * 200
        estimate = bootstrap_estimate(
            values, lambda m: m.mean(axis=1), resamples=4000, rng=np.random.default_rng(7)
        )
        half_width = 1.96 * math.sqrt(0.25 / 400)  # 0.049
        assert estimate.value == 0.5
        assert estimate.low == pytest.approx(0.5 - half_width, abs=0.01)
        assert estimate.high == pytest.approx(0.5 + half_width, abs=0.01)

    def test_constant_values_have_a_zero_width_interval(self) -> None:
        estimate = bootstrap_estimate(
            [0.7] * 10, lambda m: m.mean(axis=1), resamples=100, rng=np.random.default_rng(0)
        )
        assert estimate.low == pytest.approx(0.7)
        assert estimate.high == pytest.approx(0.7)

    def test_resample_counts_count_each_draw(self) -> None:
        indices = resample_indices(5, 3, np.random.default_rng(0))
        counts = resample_counts(indices, 5)
        assert counts.shape == (3, 5)
        assert (counts.sum(axis=1) == 5).all()
        for row, drawn in zip(counts, indices, strict=True):
            assert list(row) == [int((drawn == i).sum()) for i in range(5)]


class TestVectorisedBleu:
    def test_equals_sacrebleu_for_random_statistics(self) -> None:
        rng = np.random.default_rng(3)
        for _round in range(200):
            size = int(rng.integers(1, 6))
            stats = [_random_stats(rng) for _item in range(size)]
            row = np.array(
                [
                    [sum(getattr(s, f) for s in stats) for f in ("sys_len", "ref_len")]
                    + [sum(s.correct[n] for s in stats) for n in range(4)]
                    + [sum(s.total[n] for s in stats) for n in range(4)]
                ],
                dtype=np.float64,
            )
            assert vectorised_bleu(row)[0] == pytest.approx(bleu_from_stats(stats), abs=1e-9)

    def test_degenerate_rows_score_zero(self) -> None:
        rows = np.array(
            [
                [0, 5, 0, 0, 0, 0, 0, 0, 0, 0],  # empty answer
                [3, 3, 0, 0, 0, 0, 3, 2, 1, 0],  # nothing matches
                [2, 2, 2, 1, 0, 0, 2, 1, 0, 0],  # too short for 3-grams (no effective order)
            ],
            dtype=np.float64,
        )
        assert list(vectorised_bleu(rows)) == [0.0, 0.0, 0.0]


def _random_stats(rng: np.random.Generator) -> BleuStats:
    sys_len = int(rng.integers(0, 30))
    total = tuple(max(sys_len - n, 0) for n in range(4))
    correct = tuple(int(rng.integers(0, t + 1)) if t else 0 for t in total)
    # Matches of order n+1 cannot exceed matches of order n.
    monotone = [correct[0]]
    for value in correct[1:]:
        monotone.append(min(value, monotone[-1]))
    return BleuStats(
        sys_len=sys_len,
        ref_len=int(rng.integers(1, 30)),
        correct=(monotone[0], monotone[1], monotone[2], monotone[3]),
        total=(total[0], total[1], total[2], total[3]),
    )
