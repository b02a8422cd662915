"""Reading a judge model's reply: find the JSON verdict in whatever the model wrote.

Models asked for "only a JSON object" still wrap it in code fences, put a sentence before or
after it, or answer in Japanese. We look for the first JSON object that has the expected key:
inside code fences first, then anywhere in the text. A reply with no such object is either a
refusal (empty, or a recognisable "I can't help with that" / 「お答えできません」) or unparseable.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

MAX_REPLY_CHARS = 20_000  # a verdict is a few hundred characters; never scan a runaway reply
MAX_DECODE_ATTEMPTS = 200
MAX_REASON_CHARS = 1_000
MAX_RAW_CHARS = 2_000  # what we keep of the raw reply for troubleshooting

_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\r?\n?(.*?)```", re.DOTALL)
_REFUSAL = re.compile(
    r"\b(?:I\s+can(?:not|'t|’t)|I\s+am\s+(?:not\s+able|unable)|I'm\s+(?:not\s+able|unable)"
    r"|I\s+won(?:'t|’t)|I\s+(?:must|have\s+to)\s+decline|unable\s+to\s+(?:help|assist|comply)"
    r"|against\s+my\s+(?:guidelines|policy))"
    r"|お答えできません|回答できません|お答えすることはできません|回答を控え|お手伝いできません"
    r"|対応できません|できかねます|申し訳ありませんが",
    re.IGNORECASE,
)
_DECODER = json.JSONDecoder()


def _candidates(text: str) -> Iterator[tuple[str, int]]:
    """(text, start) pairs where a JSON object may begin: fenced blocks first, then the reply."""
    for match in _FENCE.finditer(text):
        body = match.group(1)
        for position in _brace_positions(body):
            yield body, position
    for position in _brace_positions(text):
        yield text, position


def _brace_positions(text: str) -> Iterator[int]:
    position = text.find("{")
    while position != -1:
        yield position
        position = text.find("{", position + 1)


def extract_json_object(text: str, required_key: str) -> dict[str, Any] | None:
    """The first JSON object in ``text`` that has ``required_key``, or None."""
    text = text[:MAX_REPLY_CHARS]
    for attempt, (source, start) in enumerate(_candidates(text)):
        if attempt >= MAX_DECODE_ATTEMPTS:
            break
        try:
            value, _end = _DECODER.raw_decode(source, start)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict) and required_key in value:
            return value
    return None


def looks_like_refusal(text: str) -> bool:
    """An empty reply (what a safety block leaves) or a recognisable refusal sentence."""
    stripped = text.strip()
    return not stripped or _REFUSAL.search(stripped[:MAX_REPLY_CHARS]) is not None


def normalize_label(value: Any) -> str:
    """``" Ａ "`` → ``"a"``: width-folded, trimmed, lower-case; non-strings become ``""``."""
    if not isinstance(value, str):
        return ""
    return unicodedata.normalize("NFKC", value).strip().casefold()


def clean_reason(value: Any) -> str:
    """The judge's short reason as text, trimmed to a length a table cell can show."""
    if not isinstance(value, str):
        return ""
    reason = value.strip()
    if len(reason) > MAX_REASON_CHARS:
        reason = reason[: MAX_REASON_CHARS - 1].rstrip() + "…"
    return reason


def raw_excerpt(text: str) -> str:
    return text if len(text) <= MAX_RAW_CHARS else text[:MAX_RAW_CHARS] + "…"
