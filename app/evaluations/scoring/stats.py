"""Win rates, judge–human agreement and the plain-language verdict.

Outcomes are always from the tuned model's point of view: ``tuned`` (a win), ``baseline`` (a
loss), ``tie``, and for human votes ``both_bad``. How ties are handled:

* ``better`` / ``worse`` / ``tied`` are shares of *all* compared questions (wins / n, …); ties and
  "both bad" votes count in the denominator, so "better on 72 %" means 72 % of the questions.
* ``decisive`` is wins / (wins + losses), ties left out: the sign test's view, used to say whether
  one model is better overall (its interval excludes 50 %) or the difference is not clear yet.

Intervals are Wilson score intervals (95 %), which stay inside 0–100 % and behave with few items.

For judge–human agreement a human "both bad" vote counts as a tie (neither answer won), because
the judge has no such verdict.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from app.i18n import N_, _, format_percent, get_locale, ngettext

Z_95 = 1.959963984540054  # two-sided 95 % normal quantile


class HumanVote(StrEnum):
    """What a blind voter picked; the sides were shown in random order."""

    A = "a"
    B = "b"
    TIE = "tie"
    BOTH_BAD = "both_bad"


VOTE_LABELS = {
    HumanVote.A: N_("A is better"),
    HumanVote.B: N_("B is better"),
    HumanVote.TIE: N_("Both are equally good"),
    HumanVote.BOTH_BAD: N_("Both are bad"),
}

TUNED, BASELINE, TIE, BOTH_BAD = "tuned", "baseline", "tie", "both_bad"


def vote_outcome(vote: HumanVote | str, a_is_tuned: bool) -> str:
    """A blind vote as the tuned model's outcome: ``tuned``, ``baseline``, ``tie``, ``both_bad``."""
    vote = HumanVote(vote)
    if vote is HumanVote.A:
        return TUNED if a_is_tuned else BASELINE
    if vote is HumanVote.B:
        return BASELINE if a_is_tuned else TUNED
    return TIE if vote is HumanVote.TIE else BOTH_BAD


class Proportion(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: float | None  # None when n == 0
    low: float | None
    high: float | None
    n: int


def wilson_interval(successes: float, n: int, z: float = Z_95) -> Proportion:
    """The share ``successes / n`` with its Wilson score interval."""
    if n <= 0:
        return Proportion(value=None, low=None, high=None, n=0)
    share = successes / n
    denominator = 1 + z * z / n
    centre = (share + z * z / (2 * n)) / denominator
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / denominator
    # At 0 and n the bounds are exactly 0 and 1; rounding would leave 0.9999999999999999.
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return Proportion(value=share, low=low, high=high, n=n)


class WinTieLoss(BaseModel):
    model_config = ConfigDict(frozen=True)

    wins: int = 0
    losses: int = 0
    ties: int = 0
    both_bad: int = 0

    @property
    def total(self) -> int:
        return self.wins + self.losses + self.ties + self.both_bad


def count_outcomes(outcomes: Iterable[str | None]) -> WinTieLoss:
    """Tally outcomes; None (a question without a verdict) is skipped."""
    tally = Counter(str(outcome) for outcome in outcomes if outcome is not None)
    unknown = set(tally) - {TUNED, BASELINE, TIE, BOTH_BAD}
    if unknown:
        raise ValueError(f"unknown outcomes: {sorted(unknown)}")
    return WinTieLoss(
        wins=tally[TUNED], losses=tally[BASELINE], ties=tally[TIE], both_bad=tally[BOTH_BAD]
    )


class WinRate(BaseModel):
    model_config = ConfigDict(frozen=True)

    counts: WinTieLoss
    better: Proportion  # wins / all
    worse: Proportion  # losses / all
    tied: Proportion  # (ties + both bad) / all
    decisive: Proportion  # wins / (wins + losses)

    @property
    def direction(self) -> str:
        """``tuned`` or ``baseline`` when the decisive interval excludes 50 %, else ``unclear``
        (or ``tie`` when no question had a winner)."""
        if self.decisive.n == 0:
            return TIE
        low, high = self.decisive.low or 0.0, self.decisive.high or 0.0
        if low > 0.5:
            return TUNED
        if high < 0.5:
            return BASELINE
        return "unclear"


def win_rate(counts: WinTieLoss) -> WinRate:
    n = counts.total
    return WinRate(
        counts=counts,
        better=wilson_interval(counts.wins, n),
        worse=wilson_interval(counts.losses, n),
        tied=wilson_interval(counts.ties + counts.both_bad, n),
        decisive=wilson_interval(counts.wins, counts.wins + counts.losses),
    )


class Agreement(BaseModel):
    model_config = ConfigDict(frozen=True)

    n: int
    percent: float | None  # share of pairs with the same verdict, 0–1
    kappa: float | None  # Cohen's kappa; None when undefined (both always gave one verdict)


def _as_agreement_label(outcome: str) -> str:
    return TIE if outcome == BOTH_BAD else outcome


def judge_human_agreement(pairs: Sequence[tuple[str, str]]) -> Agreement:
    """Percent agreement and Cohen's kappa over (judge outcome, human outcome) pairs.

    Pass one pair per human vote (an item with three votes gives three pairs). Kappa corrects
    for the agreement two raters would reach by chance given how often each uses each verdict.
    """
    labelled = [(_as_agreement_label(j), _as_agreement_label(h)) for j, h in pairs]
    n = len(labelled)
    if n == 0:
        return Agreement(n=0, percent=None, kappa=None)
    observed = sum(1 for judge, human in labelled if judge == human) / n
    judge_counts = Counter(judge for judge, _human in labelled)
    human_counts = Counter(human for _judge, human in labelled)
    expected = sum(judge_counts[k] * human_counts[k] for k in judge_counts) / (n * n)
    kappa = None if math.isclose(expected, 1.0) else (observed - expected) / (1 - expected)
    return Agreement(n=n, percent=observed, kappa=kappa)


# ---- the plain-language verdict ----------------------------------------------------------------

MIN_CATEGORY_ITEMS = 5  # fewer questions than this say too little about a category

_DIRECTION_SENTENCES = {
    TUNED: N_("Overall it is better than the original model."),
    BASELINE: N_("Overall it is worse than the original model."),
    "unclear": N_("The difference is not clear yet: compare more questions to be sure."),
    TIE: N_("Neither model gave the better answer on any question."),
}


def _percent(value: float | None) -> str:
    return format_percent(value or 0.0)


def _headline(rate: WinRate) -> str:
    n = rate.counts.total
    return ngettext(
        "The tuned model is better on %(better)s of your %(count)d test question "
        "(95%% CI %(low)s–%(high)s) and worse on %(worse)s.",
        "The tuned model is better on %(better)s of your %(count)d test questions "
        "(95%% CI %(low)s–%(high)s) and worse on %(worse)s.",
        n,
    ) % {
        "better": _percent(rate.better.value),
        "count": n,
        "low": _percent(rate.better.low),
        "high": _percent(rate.better.high),
        "worse": _percent(rate.worse.value),
    }


def worst_category(
    by_category: Mapping[str, WinTieLoss], min_items: int = MIN_CATEGORY_ITEMS
) -> tuple[str, WinRate] | None:
    """The category with the lowest (better − worse) share among those with enough questions."""
    rated = [
        (name, win_rate(counts))
        for name, counts in by_category.items()
        if counts.total >= min_items
    ]
    if not rated:
        return None

    def net(entry: tuple[str, WinRate]) -> tuple[float, int, str]:
        name, rate = entry
        return ((rate.better.value or 0.0) - (rate.worse.value or 0.0), -rate.counts.total, name)

    return min(rated, key=net)


def _category_sentence(by_category: Mapping[str, WinTieLoss], min_items: int) -> str | None:
    worst = worst_category(by_category, min_items)
    if worst is None:
        return None
    name, rate = worst
    values = {
        "category": name,
        "better": _percent(rate.better.value),
        "worse": _percent(rate.worse.value),
    }
    if rate.counts.losses > rate.counts.wins:
        return (
            _(
                "It is worse than the original model on “%(category)s” questions "
                "(worse on %(worse)s, better on %(better)s)."
            )
            % values
        )
    enough = sum(1 for counts in by_category.values() if counts.total >= min_items)
    if enough < 2:
        return None  # "weakest of one" says nothing
    return _("Its weakest category is “%(category)s” (better on %(better)s).") % values


def verdict_sentence(
    overall: WinTieLoss,
    by_category: Mapping[str, WinTieLoss] | None = None,
    *,
    min_category_items: int = MIN_CATEGORY_ITEMS,
) -> str:
    """The compare screen's summary in the current language, e.g. "The tuned model is better on
    72% of your 150 test questions (95% CI 64%–79%) and worse on 20%. Overall it is better than
    the original model. It is worse than the original model on “billing” questions (…)."

    ``by_category`` maps a tag or category name to the outcomes of its questions; the category
    where the tuned model does worst is named when it has at least ``min_category_items``
    questions.
    """
    if overall.total == 0:
        return _("No test questions have been compared yet.")
    rate = win_rate(overall)
    sentences = [_headline(rate), _(_DIRECTION_SENTENCES[rate.direction])]
    category = _category_sentence(by_category or {}, min_category_items)
    if category:
        sentences.append(category)
    separator = "" if get_locale() == "ja" else " "  # Japanese sentences are not space-separated
    return separator.join(sentences)
