"""Character classes of Japanese script, for tokenisers and diffs that must treat every kana or
kanji as a unit of its own (Japanese has no spaces between words)."""

from __future__ import annotations

# Kana, kanji and the marks that behave like them. Each one is a token on its own.
# 々〆〇, hiragana, katakana (with ー), katakana extensions, CJK extension A, unified ideographs,
# compatibility ideographs, half-width katakana, and the supplementary ideograph planes (𠮷).
CJK_CLASS = (
    "\u3005-\u3007\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)
