"""JSONL, streamed line by line: each line one JSON object in one of the accepted formats."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

from app.datasets.quality import findings
from app.datasets.reading.jsonl_schemas import convert
from app.datasets.records import ExampleDraft, Finding

MAX_LINE_CHARS = 16 * 1024 * 1024  # far above any usable example; protects memory
SKIP_CHUNK = 1 << 20


def _parse(line: str, number: int, origin: str) -> tuple[ExampleDraft | None, list[Finding]]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as error:
        return None, [
            findings.make(
                "invalid_json",
                number,
                origin=origin,
                error=error.msg,
                line=number,
                col=error.colno,
                position=error.pos,
            )
        ]
    except RecursionError:
        return None, [
            findings.make(
                "invalid_json",
                number,
                origin=origin,
                error="nested too deeply",
                line=number,
                col=1,
                position=0,
            )
        ]
    except ValueError as error:  # e.g. an integer with more digits than Python accepts
        return None, [
            findings.make(
                "invalid_json",
                number,
                origin=origin,
                error=str(error)[:120],
                line=number,
                col=1,
                position=0,
            )
        ]
    return convert(obj, number, origin)


def _skip_rest_of_line(text: io.TextIOBase) -> None:
    while True:
        chunk = text.readline(SKIP_CHUNK)
        if not chunk or chunk.endswith(("\n", "\r")):
            return


def iter_examples(text: io.TextIOBase, origin: str = "") -> Iterator[ExampleDraft | Finding]:
    """Examples and findings in line order; blank lines are skipped silently. Line numbers are
    what an editor shows (the first line is line 1)."""
    number = 0
    while True:
        line = text.readline(MAX_LINE_CHARS)
        if not line:
            return
        number += 1
        if len(line) >= MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            _skip_rest_of_line(text)
            yield findings.make("row_too_large", number, origin=origin, limit=MAX_LINE_CHARS)
            continue
        # A BOM can start any line: files saved with one and then concatenated keep them all.
        line = line.lstrip("\ufeff").rstrip("\r\n")
        if not line.strip():
            continue
        draft, found = _parse(line, number, origin)
        yield from found
        if draft is not None:
            yield draft
