"""Win rates, Wilson intervals, judge–human agreement and the plain-language verdict."""

from __future__ import annotations

import pytest

from app.evaluations.scoring.stats import (
    HumanVote,
    WinTieLoss,
    count_outcomes,
    judge_human_agreement,
    verdict_sentence,
    vote_outcome,
    wilson_interval,
    win_rate,
    worst_category,
)
from app.i18n import use_locale


class TestWilson:
    def test_known_interval(self) -> None:
        # 72 of 100: Wilson 95 % interval 62.5 %–79.9 % (centre (p + z²/2n)/(1 + z²/n)).
        interval = wilson_interval(72, 100)
        assert interval.value == pytest.approx(0.72)
        assert interval.low == pytest.approx(0.6251, abs=1e-4)
        assert interval.high == pytest.approx(0.7986, abs=1e-4)

    def test_edges_stay_inside_zero_and_one(self) -> None:
        none = wilson_interval(0, 10)
        every = wilson_interval(10, 10)
        assert none.low == 0.0
        assert none.high is not None
        assert 0 < none.high < 0.35
        assert every.high == 1.0
        assert every.low is not None
        assert 0.65 < every.low < 1

    def test_no_items(self) -> None:
        assert wilson_interval(0, 0).value is None


class TestOutcomes:
    def test_blind_votes_map_back_to_the_models(self) -> None:
        assert vote_outcome(HumanVote.A, a_is_tuned=True) == "tuned"
        assert vote_outcome(HumanVote.A, a_is_tuned=False) == "baseline"
        assert vote_outcome("b", a_is_tuned=True) == "baseline"
        assert vote_outcome("b", a_is_tuned=False) == "tuned"
        assert vote_outcome("tie", a_is_tuned=True) == "tie"
        assert vote_outcome("both_bad", a_is_tuned=False) == "both_bad"

    def test_counting_skips_missing_verdicts(self) -> None:
        counts = count_outcomes(["tuned", "tuned", "baseline", "tie", "both_bad", None])
        assert counts == WinTieLoss(wins=2, losses=1, ties=1, both_bad=1)
        assert counts.total == 5

    def test_unknown_outcome_is_a_programming_error(self) -> None:
        with pytest.raises(ValueError, match="unknown outcomes"):
            count_outcomes(["tuned", "A"])

    def test_shares_count_ties_in_the_denominator(self) -> None:
        rate = win_rate(WinTieLoss(wins=6, losses=2, ties=1, both_bad=1))
        assert rate.better.value == pytest.approx(0.6)
        assert rate.worse.value == pytest.approx(0.2)
        assert rate.tied.value == pytest.approx(0.2)
        assert rate.decisive.value == pytest.approx(0.75)  # ties left out: 6 / (6 + 2)

    @pytest.mark.parametrize(
        ("counts", "direction"),
        [
            (WinTieLoss(wins=40, losses=10), "tuned"),
            (WinTieLoss(wins=10, losses=40), "baseline"),
            (WinTieLoss(wins=5, losses=4, ties=3), "unclear"),
            (WinTieLoss(ties=4), "tie"),
        ],
    )
    def test_direction(self, counts: WinTieLoss, direction: str) -> None:
        assert win_rate(counts).direction == direction


class TestAgreement:
    def test_kappa_by_hand(self) -> None:
        # 50 pairs: judge tuned/human tuned 20, tuned/baseline 5, baseline/tuned 10,
        # baseline/baseline 15. Observed 35/50 = 0.7; chance (25·30 + 25·20)/50² = 0.5;
        # kappa = (0.7 − 0.5)/(1 − 0.5) = 0.4.
        pairs = (
            [("tuned", "tuned")] * 20
            + [("tuned", "baseline")] * 5
            + [("baseline", "tuned")] * 10
            + [("baseline", "baseline")] * 15
        )
        agreement = judge_human_agreement(pairs)
        assert agreement.n == 50
        assert agreement.percent == pytest.approx(0.7)
        assert agreement.kappa == pytest.approx(0.4)

    def test_both_bad_counts_as_a_tie(self) -> None:
        agreement = judge_human_agreement([("tie", "both_bad"), ("tuned", "tuned")])
        assert agreement.percent == 1.0
        assert agreement.kappa == pytest.approx(1.0)

    def test_kappa_undefined_when_both_always_say_the_same(self) -> None:
        agreement = judge_human_agreement([("tuned", "tuned")] * 3)
        assert agreement.percent == 1.0
        assert agreement.kappa is None

    def test_no_votes(self) -> None:
        assert judge_human_agreement([]).percent is None


OVERALL = WinTieLoss(wins=108, losses=30, ties=12)
CATEGORIES = {
    "billing": WinTieLoss(wins=8, losses=12, ties=0),
    "shipping": WinTieLoss(wins=60, losses=10, ties=5),
    "returns": WinTieLoss(wins=40, losses=8, ties=7),
    "tiny": WinTieLoss(losses=3),  # too few questions to name
}


class TestVerdictSentence:
    def test_english(self) -> None:
        with use_locale("en"):
            sentence = verdict_sentence(OVERALL, CATEGORIES)
        assert sentence == (
            "The tuned model is better on 72% of your 150 test questions (95% CI 64%–79%) "
            "and worse on 20%. Overall it is better than the original model. "
            "It is worse than the original model on “billing” questions "
            "(worse on 60%, better on 40%)."
        )

    def test_japanese(self) -> None:
        with use_locale("ja"):
            sentence = verdict_sentence(OVERALL, CATEGORIES)
        assert sentence == (
            "チューニング済みモデルは、150件のテスト質問のうち72%（95%信頼区間：64%～79%）で"
            "元のモデルより優れ、20%で劣っています。全体として、元のモデルより優れています。"
            "「billing」の質問では元のモデルより劣っています（劣る：60%、優れる：40%）。"
        )

    def test_weakest_category_when_none_is_losing(self) -> None:
        categories = {k: v for k, v in CATEGORIES.items() if k not in ("billing", "tiny")}
        with use_locale("en"):
            sentence = verdict_sentence(OVERALL, categories)
        assert sentence.endswith("Its weakest category is “returns” (better on 73%).")

    def test_worst_category_ignores_small_ones(self) -> None:
        worst = worst_category(CATEGORIES)
        assert worst is not None
        assert worst[0] == "billing"
        assert worst_category({"tiny": WinTieLoss(losses=3)}) is None

    def test_one_question_and_unclear_difference(self) -> None:
        with use_locale("en"):
            sentence = verdict_sentence(WinTieLoss(wins=1))
        assert sentence.startswith("The tuned model is better on 100% of your 1 test question ")
        unclear = "The difference is not clear yet: compare more questions to be sure."
        assert sentence.endswith(unclear)

    def test_nothing_compared(self) -> None:
        with use_locale("en"):
            assert verdict_sentence(WinTieLoss()) == "No test questions have been compared yet."
        with use_locale("ja"):
            assert verdict_sentence(WinTieLoss()) == "比較済みのテスト質問はまだありません。"
