"""Automatic metrics for one answer against its reference, for Japanese, English and mixed text.

``score_item(reference, output)`` computes everything the compare screen shows for one test
question; ``app.evaluations.aggregate.aggregate`` turns a list of them into set-level figures with
confidence intervals. Scales follow convention: chrF and BLEU 0–100, ROUGE-L 0–1.

Tokenization (data-quality §4): chrF needs none. BLEU uses MeCab morphemes (``ja-mecab``, the
WMT practice for Japanese) whenever either text has kana or kanji, and sacrebleu's ``13a`` for
text without them; MeCab also splits the English words inside mixed text. If MeCab cannot be
loaded, Japanese falls back to one token per kana/kanji character (``ja-char``). The tokenizer
used is part of every result. ROUGE-L is our own LCS F-measure over ``metric_tokens`` (one token
per kana/kanji, English words whole and lower-cased), never rouge-score's default tokenizer.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache

from pydantic import BaseModel, ConfigDict
from sacrebleu.metrics import BLEU, CHRF

from app.evaluations.scoring.json_format import JsonCheck, json_check
from app.evaluations.scoring.normalize import (
    bleu_char_tokens,
    comparison_key,
    has_cjk,
    metric_tokens,
    sanitize,
)

MECAB = "ja-mecab"
CHAR_FALLBACK = "ja-char"
ENGLISH = "13a"
AUTO = "auto"
MAX_NGRAM_ORDER = 4  # sacrebleu's BLEU default; the stats below have this many orders


def clamp_percent(score: float) -> float:
    """exp(mean(log p)) of identical texts comes out as 100.00000000000004; keep 0–100."""
    return min(100.0, max(0.0, score))


class BleuStats(BaseModel):
    """BLEU's sufficient statistics for one item. Corpus BLEU is computed from their sums, so
    they are stored with each item (the aggregate never re-tokenizes)."""

    model_config = ConfigDict(frozen=True)

    sys_len: int
    ref_len: int
    correct: tuple[int, int, int, int]
    total: tuple[int, int, int, int]


class BleuResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    score: float
    tokenizer: str  # sacrebleu's tokenizer signature, e.g. "13a" or "ja-mecab-0.996-IPA"
    stats: BleuStats


class ItemScores(BaseModel):
    """Every automatic metric for one answer. JSON-serialisable (``model_dump(mode="json")``)
    and restorable with ``ItemScores.model_validate``, so runs can store it per item."""

    model_config = ConfigDict(frozen=True)

    exact_match: bool
    chrf: float
    bleu: float
    bleu_tokenizer: str
    bleu_stats: BleuStats
    rouge_l: float
    length_ratio: float | None  # None when the reference is empty and the answer is not
    json_check: JsonCheck | None  # None when the reference is not a JSON object or array


# ---- exact match and length ------------------------------------------------------------------


def exact_match(reference: str, output: str) -> bool:
    """Equal after NFKC, casefold, whitespace collapse and stripping a trailing 。 or ."""
    return comparison_key(reference) == comparison_key(output)


def length_ratio(reference: str, output: str) -> float | None:
    """Characters of the answer per character of the reference, both as exact match compares
    them (so full-width/half-width and extra spaces do not count)."""
    reference_length = len(comparison_key(reference))
    output_length = len(comparison_key(output))
    if reference_length == 0:
        return 1.0 if output_length == 0 else None
    return output_length / reference_length


# ---- chrF ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _chrf_metric() -> CHRF:
    return CHRF()  # chrF2: character 6-grams, beta 2, whitespace ignored


def chrf(reference: str, output: str) -> float:
    """sacrebleu's sentence-level chrF (0–100); needs no tokenizer, so it behaves the same for
    Japanese, English and mixed text."""
    score = _chrf_metric().sentence_score(sanitize(output), [sanitize(reference)]).score
    return clamp_percent(float(score))


# ---- BLEU ------------------------------------------------------------------------------------


@cache
def _bleu_metric(tokenize: str) -> BLEU:
    # effective_order: sentence BLEU of short answers is not 0 just because no 4-gram matched.
    return BLEU(tokenize=tokenize, effective_order=True)


@lru_cache(maxsize=1)
def mecab_available() -> bool:
    """Whether sacrebleu's ``ja-mecab`` tokenizer loads (mecab-python3 + ipadic installed)."""
    try:
        _bleu_metric(MECAB)
    except (ImportError, RuntimeError, AssertionError, OSError):
        return False
    return True


def bleu_tokenizer_for(reference: str, output: str, mecab: bool | None = None) -> str:
    """``ja-mecab`` (``ja-char`` when MeCab is missing) if either text has kana/kanji, else
    ``13a``. ``mecab`` overrides the installation check."""
    if has_cjk(reference) or has_cjk(output):
        usable = mecab_available() if mecab is None else mecab
        return MECAB if usable else CHAR_FALLBACK
    return ENGLISH


def _pretokenize(tokenizer: str, text: str) -> str:
    """``text`` as sacrebleu's tokenizer ``tokenizer`` would give it to BLEU.

    sacrebleu's tokenizers keep the last 65,536 lines they saw in a process-wide cache; in a
    long-lived worker that grew to 240 MB after 20,000 Japanese answers. We call the uncached
    function underneath (``__wrapped__``) with the same ``rstrip()`` BLEU applies, and hand the
    result to BLEU with ``tokenize="none"``: identical scores, no cache.
    """
    text = sanitize(text).rstrip()
    if tokenizer == CHAR_FALLBACK:
        return " ".join(bleu_char_tokens(text))
    instance = _bleu_metric(tokenizer).tokenizer
    call = type(instance).__call__
    return str(getattr(call, "__wrapped__", call)(instance, text))


def _signature(tokenizer: str) -> str:
    if tokenizer == CHAR_FALLBACK:
        return CHAR_FALLBACK
    return str(_bleu_metric(tokenizer).tokenizer_signature)


def sentence_bleu(reference: str, output: str, tokenizer: str = AUTO) -> BleuResult:
    """Sentence BLEU (0–100, exponential smoothing, effective order) with its statistics.

    ``tokenizer``: ``"auto"`` (see ``bleu_tokenizer_for``), ``"13a"``, ``"ja-mecab"``,
    ``"ja-char"`` or any other sacrebleu tokenizer name.
    """
    chosen = bleu_tokenizer_for(reference, output) if tokenizer == AUTO else tokenizer
    ref_text, out_text = _pretokenize(chosen, reference), _pretokenize(chosen, output)
    result = _bleu_metric("none").sentence_score(out_text, [ref_text])
    stats = BleuStats(
        sys_len=int(result.sys_len),
        ref_len=int(result.ref_len),
        correct=_four(result.counts),
        total=_four(result.totals),
    )
    score = clamp_percent(float(result.score))
    return BleuResult(score=score, tokenizer=_signature(chosen), stats=stats)


def _four(values: Sequence[int]) -> tuple[int, int, int, int]:
    a, b, c, d = (int(value) for value in values)
    return a, b, c, d


def bleu_from_stats(stats: Sequence[BleuStats]) -> float:
    """Corpus BLEU (0–100) from per-item statistics, exactly as sacrebleu's ``corpus_score``
    computes it (summed counts, exponential smoothing, no effective order)."""
    correct = [sum(item.correct[n] for item in stats) for n in range(MAX_NGRAM_ORDER)]
    total = [sum(item.total[n] for item in stats) for n in range(MAX_NGRAM_ORDER)]
    score = BLEU.compute_bleu(
        correct=correct,
        total=total,
        sys_len=sum(item.sys_len for item in stats),
        ref_len=sum(item.ref_len for item in stats),
        smooth_method="exp",
    )
    return clamp_percent(float(score.score))


def corpus_bleu(
    references: Sequence[str], outputs: Sequence[str], tokenizer: str = AUTO
) -> BleuResult:
    """Corpus BLEU over aligned references and answers.

    With ``"auto"`` each pair is tokenized as ``sentence_bleu`` would, so a mixed Japanese and
    English test set is scored with MeCab for its Japanese items and 13a for its English ones;
    ``tokenizer`` then names every tokenizer used, joined with ``+``.
    """
    if len(references) != len(outputs):
        raise ValueError(f"{len(references)} references but {len(outputs)} answers")
    pairs = zip(references, outputs, strict=True)
    results = [sentence_bleu(ref, out, tokenizer) for ref, out in pairs]
    stats = [result.stats for result in results]
    names = "+".join(sorted({result.tokenizer for result in results}))
    summed = BleuStats(
        sys_len=sum(item.sys_len for item in stats),
        ref_len=sum(item.ref_len for item in stats),
        correct=_four([sum(item.correct[n] for item in stats) for n in range(MAX_NGRAM_ORDER)]),
        total=_four([sum(item.total[n] for item in stats) for n in range(MAX_NGRAM_ORDER)]),
    )
    return BleuResult(score=bleu_from_stats(stats), tokenizer=names, stats=summed)


# ---- ROUGE-L ---------------------------------------------------------------------------------


def lcs_length(first: Sequence[str], second: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token lists.

    Bit-parallel (Hyyrö 2004): one arbitrary-precision integer holds a row of the DP table, so
    a 2,000 × 2,000-character pair costs 2,000 big-integer steps instead of 4 million Python
    operations.
    """
    if not first or not second:
        return 0
    masks: dict[str, int] = {}
    for position, token in enumerate(first):
        masks[token] = masks.get(token, 0) | (1 << position)
    full = (1 << len(first)) - 1
    row = full
    for token in second:
        matches = row & masks.get(token, 0)
        row = ((row + matches) | (row - matches)) & full
    return len(first) - row.bit_count()


def rouge_l(reference: str, output: str) -> float:
    """ROUGE-L F-measure (0–1, β = 1) over ``metric_tokens``.

    Two texts without any tokens (say, only punctuation or emoji) score 1.0 when they are an
    exact match and 0.0 otherwise, so nothing divides by zero.
    """
    reference_tokens = metric_tokens(reference)
    output_tokens = metric_tokens(output)
    if not reference_tokens or not output_tokens:
        both_empty = not reference_tokens and not output_tokens
        return 1.0 if both_empty and exact_match(reference, output) else 0.0
    common = lcs_length(reference_tokens, output_tokens)
    if common == 0:
        return 0.0
    precision = common / len(output_tokens)
    recall = common / len(reference_tokens)
    return 2 * precision * recall / (precision + recall)


# ---- everything for one item -----------------------------------------------------------------


def score_item(reference: str, output: str) -> ItemScores:
    """All automatic metrics of one answer against its reference. Never raises on text input."""
    bleu = sentence_bleu(reference, output)
    return ItemScores(
        exact_match=exact_match(reference, output),
        chrf=chrf(reference, output),
        bleu=bleu.score,
        bleu_tokenizer=bleu.tokenizer,
        bleu_stats=bleu.stats,
        rouge_l=rouge_l(reference, output),
        length_ratio=length_ratio(reference, output),
        json_check=json_check(reference, output),
    )
