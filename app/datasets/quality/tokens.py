"""An offline ESTIMATE of Gemini tokens, for limits and statistics before anything is uploaded.

There is no offline Gemini tokenizer we can rely on (the SDK's local tokenizer downloads its
model at first use), so this is deliberately conservative and always labelled as an estimate:

* ``ceil(ascii_chars / 4) + non_ascii_chars`` — about four characters per token for English
  (Google's rule of thumb) and one token per kana/kanji, which overestimates Japanese with a
  262k-entry vocabulary;
* capped by the UTF-8 byte count, because every SentencePiece piece (byte fallback included)
  covers at least one byte;
* plus a few structural tokens per turn and for the system instruction, which the API counts too.

Replace the constants with ratios measured with ``count_tokens`` on real data when available.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

from app.datasets.records import ExampleDraft

METHOD = (
    "estimate: ceil(ascii/4) + non-ascii characters, at most UTF-8 bytes, plus per-turn overhead"
)
TURN_OVERHEAD = 4
SYSTEM_OVERHEAD = 4
DEFAULT_MAX_TOKENS = 131_072  # per example, Gemini 2.x supervised tuning today

# Upper bounds of the length histogram (estimated tokens per example); the last bucket is open.
HISTOGRAM_BOUNDS: tuple[int, ...] = (
    64,
    128,
    256,
    512,
    1024,
    2048,
    4096,
    8192,
    16384,
    32768,
    65536,
    131072,
)


def estimate_text_tokens(text: str) -> int:
    if not text:
        return 0
    if text.isascii():
        return -(-len(text) // 4)
    ascii_chars = len(text.encode("ascii", "ignore"))
    by_chars = -(-ascii_chars // 4) + (len(text) - ascii_chars)
    return min(by_chars, len(text.encode("utf-8", "surrogatepass")))


def estimate_example_tokens(example: ExampleDraft) -> int:
    total = sum(estimate_text_tokens(turn.text) + TURN_OVERHEAD for turn in example.turns)
    if example.system:
        total += estimate_text_tokens(example.system) + SYSTEM_OVERHEAD
    return total


def histogram(counts: Iterable[int]) -> list[dict[str, int | None]]:
    """Examples per length bucket: ``[{"max": 64, "count": n}, …, {"max": None, "count": n}]``."""
    buckets = [0] * (len(HISTOGRAM_BOUNDS) + 1)
    for count in counts:
        buckets[bisect_left(HISTOGRAM_BOUNDS, count)] += 1
    bounds: list[int | None] = [*HISTOGRAM_BOUNDS, None]
    return [{"max": bound, "count": n} for bound, n in zip(bounds, buckets, strict=True)]
