"""Comparison keys: how two texts are compared for duplicates and conflicts.

``comparison_key`` = NFKC → a small dash/tilde fold → casefold → collapse all whitespace. It makes
``ＡＢＣ１２３`` equal ``abc123``, ``ﾊﾟｽﾜｰﾄﾞ`` equal ``パスワード`` and U+3000 equal a space.

Never write a key back into training text: NFKC rewrites ``！？：`` to ASCII, ``①`` to ``1`` and
``㈱`` to ``(株)``; the user's original text is what the model is tuned on.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from app.datasets.records import ExampleDraft

# Look-alikes NFKC leaves apart: wave dashes and the dash family. The prolonged sound mark ー is
# deliberately not folded: it is a letter inside katakana words.
_DASH_FOLD = str.maketrans(
    {
        "\u301c": "~",  # 〜 WAVE DASH (NFKC keeps it; ～ FULLWIDTH TILDE becomes ~)
        "\u2053": "~",  # ⁓ SWUNG DASH
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",  # − MINUS SIGN
        "\u2043": "-",  # ⁃ HYPHEN BULLET
    }
)
_DASHES = re.compile("[\u301c\u2053\u2010-\u2015\u2212\u2043]")

# Separates the parts of a composite key (system / turns); no text contains it after NFKC.
KEY_SEPARATOR = "\x1f"


def comparison_key(text: str) -> str:
    """The normalised form used to compare texts (never shown, never trained on)."""
    if text.isascii():
        folded = text.casefold()
    else:
        folded = unicodedata.normalize("NFKC", text)
        if _DASHES.search(folded):  # str.translate is slow on non-ASCII text: only when needed
            folded = folded.translate(_DASH_FOLD)
        folded = folded.casefold()
    return " ".join(folded.split())  # str.split() splits on all Unicode whitespace


@dataclass(frozen=True, slots=True)
class ExampleKeys:
    """Comparison keys of one example. ``prompt`` is every turn before the final answer, ``output``
    the final model turn ("" when the example does not end with one)."""

    system: str
    prompt: str
    output: str

    @property
    def full(self) -> str:
        return f"{self.prompt}\n{self.output}"


def example_keys(example: ExampleDraft) -> ExampleKeys:
    turns = example.turns
    system = comparison_key(example.system) if example.system else ""
    if len(turns) == 2 and turns[1].role == "model":  # the usual single-turn example
        return ExampleKeys(system, comparison_key(turns[0].text), comparison_key(turns[1].text))
    if turns and turns[-1].role == "model":
        asked, answer = turns[:-1], comparison_key(turns[-1].text)
    else:
        asked, answer = turns, ""
    prompt = "\n".join([comparison_key(turn.text) for turn in asked])
    return ExampleKeys(system, prompt, answer)


def key_hash(*parts: str) -> str:
    """A stable 128-bit hash of keys (hex), for storing and joining in the database: e.g.
    ``key_hash(keys.system, keys.full)`` for exact duplicates, ``key_hash(keys.system,
    keys.prompt)`` for conflicting answers, across uploads and datasets."""
    data = KEY_SEPARATOR.join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).hexdigest()
