"""CSV and TSV, streamed: decoded text goes straight into ``csv.reader`` (never split into lines
first, which would break quoted line breaks), one record at a time."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from typing import BinaryIO

from app.datasets.quality import findings
from app.datasets.reading.tabular import RawRow
from app.datasets.records import FILE_ROW, Finding

DELIMITERS = (",", "\t", ";", "|")
SNIFF_CHARS = 64 * 1024
SNIFF_RECORDS = 30
FIELD_LIMIT = 16 * 1024 * 1024  # characters per cell; far above any usable example
MAX_CONSECUTIVE_ERRORS = 50  # a file this broken is not CSV; stop instead of reporting every line


# The csv module's messages for the two usual mistakes, restated for people (and translated as
# parameter labels by the findings catalogue).
UNCLOSED_QUOTE = "the file ends inside a quoted cell (a closing quote is missing)"
TEXT_AFTER_QUOTE = "a quoted cell is followed by more text before the next delimiter"


def open_text(stream: BinaryIO, encoding: str) -> io.TextIOWrapper:
    """A text view of the stream for ``csv`` (``newline=""`` keeps quoted CR/LF inside cells).
    Bytes that do not decode become U+FFFD, which the mojibake check reports; detection has
    already made sure a detected encoding decodes the whole file."""
    stream.seek(0)
    return io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")


def sniff_delimiter(sample: str, preferred: str = ",") -> str | None:
    """The delimiter that splits the first records into the same number (≥ 2) of cells most
    consistently; ties go to ``preferred``, then to the order of ``DELIMITERS``. None when no
    candidate gives two columns."""
    if len(sample) >= SNIFF_CHARS:
        sample = sample[: sample.rfind("\n") + 1] or sample  # drop a record cut by the sample
    order = [preferred, *(d for d in DELIMITERS if d != preferred)]
    best: tuple[float, int, str] | None = None
    for rank, delimiter in enumerate(order):
        counts = _field_counts(sample, delimiter)
        if not counts:
            continue
        width, frequency = Counter(counts).most_common(1)[0]
        if width < 2:
            continue
        score = (frequency / len(counts), -rank, delimiter)
        if best is None or score > best:
            best = score
    return best[2] if best else None


def _field_counts(sample: str, delimiter: str) -> list[int]:
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    counts: list[int] = []
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                counts.append(len(record))
            if len(counts) >= SNIFF_RECORDS:
                break
    except csv.Error:
        return counts
    return counts


def iter_rows(text: io.TextIOBase, delimiter: str) -> Iterator[RawRow | Finding]:
    """Records as rows numbered as a spreadsheet shows them (a quoted line break stays inside
    its row). Malformed records become ``csv_syntax`` findings and reading goes on."""
    csv.field_size_limit(FIELD_LIMIT)  # process-wide, but only ever raised, never lowered
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    number = 0
    errors_in_a_row = 0
    while True:
        number += 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            errors_in_a_row += 1
            yield _syntax_finding(number, str(error))
            if errors_in_a_row >= MAX_CONSECUTIVE_ERRORS:
                yield findings.make(
                    "too_many_errors", FILE_ROW, stopped_at=number, count=errors_in_a_row
                )
                return
            continue
        errors_in_a_row = 0
        yield RawRow(number, tuple(record))


def _syntax_finding(row: int, error: str) -> Finding:
    if "field larger than field limit" in error:
        return findings.make("row_too_large", row, limit=FIELD_LIMIT)
    if "unexpected end of data" in error:
        error = UNCLOSED_QUOTE
    elif "expected after" in error:
        error = TEXT_AFTER_QUOTE
    return findings.make("csv_syntax", row, error=error)
