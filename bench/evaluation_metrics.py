"""How long the evaluation scoring core takes for a 5,000-question test set.

``python bench/evaluation_metrics.py [items]`` builds a deterministic mix of Japanese, English,
mixed and JSON answers (with realistic edits), scores every item, aggregates with 1,000 bootstrap
resamples, and diffs every pair; prints the time per stage.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from typing import TypeVar

from app.evaluations.scoring.aggregate import aggregate
from app.evaluations.scoring.metrics import ItemScores, score_item
from app.text.diff import diff_segments

T = TypeVar("T")

JAPANESE = [
    "ご注文いただいた商品は3営業日以内に発送いたします。配送状況はマイページからご確認いただけます。",
    "パスワードを忘れた場合は、ログイン画面の「パスワードをお忘れの方」から再設定してください。",
    "返品の送料は、不良品の場合は当社が負担し、お客様都合の場合はお客様のご負担となります。",
    "Zoomのリンクは会議の前日までにメールでお送りします。届かない場合はサポートまでご連絡ください。",
]
ENGLISH = [
    "Your order ships within three business days. You can track it from your account page.",
    "If you forgot your password, use the reset link on the sign-in page to choose a new one.",
    "We pay return shipping for faulty items; for other returns the customer pays shipping.",
]


def edit(text: str, rng: random.Random) -> str:
    """A plausible model answer: a few characters/words changed, dropped or added."""
    units = list(text) if not text.isascii() else text.split(" ")
    for _edit in range(rng.randint(0, 6)):
        position = rng.randrange(len(units))
        choice = rng.random()
        if choice < 0.4:
            units[position] = rng.choice(units)
        elif choice < 0.7 and len(units) > 3:
            del units[position]
        else:
            units.insert(position, rng.choice(units))
    return ("" if not text.isascii() else " ").join(units)


def build(count: int) -> list[tuple[str, str]]:
    rng = random.Random(20240601)
    pairs = []
    for index in range(count):
        kind = index % 10
        if kind < 5:
            reference = rng.choice(JAPANESE)
        elif kind < 9:
            reference = rng.choice(ENGLISH)
        else:
            record = {"status": "shipped", "days": rng.randint(1, 5), "items": [{"sku": "A-1"}]}
            reference = json.dumps(record, ensure_ascii=False)
        pairs.append((reference, edit(reference, rng)))
    return pairs


def timed(label: str, action: Callable[[], T]) -> T:
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    print(f"{label:<42} {elapsed:7.2f} s")
    return result


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    pairs = timed(f"build {count} pairs", lambda: build(count))
    items: list[ItemScores] = timed(
        "score_item for every pair", lambda: [score_item(r, o) for r, o in pairs]
    )
    summary = timed("aggregate (1,000 bootstrap resamples)", lambda: aggregate(items))
    timed("diff_segments for every pair", lambda: [diff_segments(r, o) for r, o in pairs])
    print(f"chrF {summary.chrf.value:.1f} [{summary.chrf.low:.1f}, {summary.chrf.high:.1f}]")
    print(
        f"BLEU {summary.bleu.value:.1f} [{summary.bleu.low:.1f}, {summary.bleu.high:.1f}]"
        f" tokenizers {', '.join(summary.bleu_tokenizers)}"
    )
    print(f"JSON valid {summary.json_valid.value:.2f} over {summary.json_valid.n} JSON items")
    return 0


if __name__ == "__main__":
    sys.exit(main())
