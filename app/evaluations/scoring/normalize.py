"""Text preparation shared by the evaluation metrics, the judge and the diff view.

Japanese has no spaces between words, so every tokenizer here treats each kana/kanji character as
a token of its own and keeps runs of other letters and digits (English words, numbers) whole.
Nothing in this module ever drops a character because it is not ASCII: that is the bug of
rouge-score's default tokenizer (it turns ``東京都の天気は晴れです。`` into no tokens at all).
"""

from __future__ import annotations

import re
import unicodedata

from app.text.scripts import CJK_CLASS

_CJK = re.compile(f"[{CJK_CLASS}]")
_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
# A run of letters/digits that are not CJK: an English word, a number, "Zoom", "café".
_WORD = f"(?:(?![{CJK_CLASS}])[^\\W_])+"
_METRIC_TOKEN = re.compile(f"[{CJK_CLASS}]|{_WORD}")
_BLEU_TOKEN = re.compile(f"[{CJK_CLASS}]|{_WORD}|\\S")
_WHITESPACE = re.compile(r"\s+")
_TRAILING_STOPS = re.compile(r"[\s。.]+$")
# C0/C1 control characters except tab, LF and CR, and UTF-16 surrogates.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

# Look-alike dashes and tildes that NFKC leaves apart (data-quality §2). ー is a letter in katakana
# words and is deliberately not folded.
_DASH_FOLD = str.maketrans(
    {
        "\u301c": "~",  # 〜 WAVE DASH
        "\uff5e": "~",  # ～ FULLWIDTH TILDE (NFKC already does this; kept for clarity)
        "\u2010": "-",  # ‐ HYPHEN
        "\u2011": "-",  # ‑ NON-BREAKING HYPHEN
        "\u2012": "-",  # ‒ FIGURE DASH
        "\u2013": "-",  # – EN DASH
        "\u2014": "-",  # — EM DASH
        "\u2015": "-",  # ― HORIZONTAL BAR
        "\u2212": "-",  # − MINUS SIGN
    }
)


def _replace_unsafe(match: re.Match[str]) -> str:
    return "\ufffd" if "\ud800" <= match.group() <= "\udfff" else " "


def sanitize(text: str) -> str:
    """Make any string safe for the metric libraries without changing ordinary text.

    Lone surrogates (possible after decoding broken JSON) make MeCab raise, and a NUL character
    silently cuts MeCab's input short, so surrogates become U+FFFD and control characters other
    than tab and newlines become spaces.
    """
    return _UNSAFE.sub(_replace_unsafe, text)


def comparison_key(text: str) -> str:
    """The text as exact match compares it: NFKC, dash/tilde fold, casefold, one space between
    words, no trailing 。 or . (``"Ｙｅｓ。"`` and ``"yes"`` have the same key)."""
    folded = unicodedata.normalize("NFKC", sanitize(text)).translate(_DASH_FOLD).casefold()
    return _TRAILING_STOPS.sub("", _WHITESPACE.sub(" ", folded).strip())


def has_cjk(text: str) -> bool:
    """Whether the text contains any kana or kanji (so needs character/morpheme tokenization)."""
    return _CJK.search(text) is not None


def looks_japanese(text: str) -> bool:
    """Whether a question is Japanese: it has kana, or more kanji than Latin letters."""
    if _KANA.search(text):
        return True
    cjk = len(_CJK.findall(text))
    latin = sum(1 for char in text if char.isascii() and char.isalpha())
    return cjk > 0 and cjk >= latin


def metric_tokens(text: str) -> list[str]:
    """Tokens for ROUGE-L and length comparisons.

    NFKC first (full-width ``ＡＢＣ`` becomes ``abc``, half-width ``ｶﾅ`` becomes ``カナ``), then
    one token per kana/kanji character and one lower-cased token per run of other letters and
    digits. Punctuation, symbols and emoji are not tokens.
    """
    normalized = unicodedata.normalize("NFKC", sanitize(text)).lower()
    return _METRIC_TOKEN.findall(normalized)


def bleu_char_tokens(text: str) -> list[str]:
    """BLEU tokens when MeCab is unavailable: kana/kanji one per character, other words whole,
    every other visible character (punctuation) a token of its own, as 13a does for English."""
    return _BLEU_TOKEN.findall(sanitize(text))


def collapse_whitespace(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()
