"""What the simulated models say.

- A base model answers generically and deterministically, in the question's language (a Japanese
  question gets a Japanese answer), so evaluations are reproducible.
- A tuned model answers with the model turn of the training example whose user turn is most
  similar to the question (character n-gram cosine similarity), so a side-by-side comparison
  shows what tuning changed.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from app.emulator.datasets import Example
from app.emulator.tokens import is_japanese

_ENGLISH = (
    "Thank you for your question about \u201c{topic}\u201d. In general, the answer depends on "
    "your situation. Please check the details that apply to you, and contact the team in charge "
    "if anything is still unclear.",
    "Regarding \u201c{topic}\u201d: there is no single answer that fits every case. Start from "
    "the official guidelines, compare them with your case, and ask a specialist if you need a "
    "definite decision.",
    "Good question. For \u201c{topic}\u201d, I would first gather the relevant facts, then follow "
    "the standard procedure. If the standard procedure does not cover your case, escalate it.",
)
_JAPANESE = (
    "\u201c{topic}\u201dについてのご質問ありがとうございます。一般的には、状況によって対応が異なります。"
    "該当する条件をご確認のうえ、ご不明な点があれば担当窓口までお問い合わせください。",
    "\u201c{topic}\u201dについて：すべての場合に当てはまる答えはありません。まず公式の案内をご確認いただき、"
    "ご自身の状況と照らし合わせてください。確定的な判断が必要な場合は専門の担当者にご相談ください。",
    "よいご質問です。\u201c{topic}\u201dについては、まず関係する事実を整理し、標準的な手順に沿って"
    "進めることをおすすめします。手順で対応できない場合は、上長にエスカレーションしてください。",
)
_SPACES = re.compile(r"\s+")


def _topic(question: str) -> str:
    flat = _SPACES.sub(" ", question).strip()
    limit = 30 if is_japanese(flat) else 60
    return flat if len(flat) <= limit else flat[:limit].rstrip() + "…"


def base_answer(question: str) -> str:
    """A generic answer that depends only on the question (same question, same answer)."""
    templates = _JAPANESE if is_japanese(question) else _ENGLISH
    digest = int(hashlib.sha256(question.encode("utf-8")).hexdigest(), 16)
    return templates[digest % len(templates)].format(topic=_topic(question) or "…")


def _ngrams(text: str) -> Counter[str]:
    flat = f" {_SPACES.sub(' ', text.lower()).strip()} "
    grams: Counter[str] = Counter()
    for size in (2, 3):
        grams.update(flat[i : i + size] for i in range(len(flat) - size + 1))
    return grams


@lru_cache(maxsize=20_000)
def _profile(text: str) -> tuple[Counter[str], float]:
    """A text's n-grams and their norm, kept: a tuned model compares every question with the
    same training questions, and recounting them blocked the emulator's event loop for ~13 ms
    per answer (100 examples), which showed up as latency on every other request."""
    grams = _ngrams(text)
    return grams, math.sqrt(sum(c * c for c in grams.values()))


def similarity(left: str, right: str) -> float:
    (a, norm_a), (b, norm_b) = _profile(left), _profile(right)
    if len(a) > len(b):
        a, b = b, a
    dot = sum(count * b[gram] for gram, count in a.items())
    norm = norm_a * norm_b
    return dot / norm if norm else 0.0


def closest_example(question: str, examples: Sequence[Example]) -> Example | None:
    best: Example | None = None
    best_score = -1.0
    for example in examples:
        score = similarity(question, example.question)
        if score > best_score:
            best, best_score = example, score
    return best


def tuned_answer(question: str, examples: Sequence[Example]) -> str:
    example = closest_example(question, examples)
    return example.answer if example else base_answer(question)
