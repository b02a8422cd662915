"""Reading an upload: ``inspect_file`` for the mapping step, ``read_file`` for ingestion.

Both accept a path or a binary file object, recognise the format from the content (a ZIP in a
``.csv`` is read as the workbook it is), detect the encoding unless given, and never raise on bad
input: every problem becomes a :class:`~app.datasets.records.Finding`. Reading streams: rows are
produced one at a time and the file is never held in memory twice.

    with read_file(path, filename="faq.csv", mapping=saved_mapping) as reading:
        print(reading.format, reading.encoding)
        for item in reading:            # ExampleDraft or Finding, in file order
            ...
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from types import TracebackType

from app.datasets.quality import findings
from app.datasets.reading import csv_reader, jsonl_reader, sources, xlsx_reader
from app.datasets.reading.column_mapping import ColumnMapping, MappingGuess
from app.datasets.reading.tabular import (
    HEADER_SCAN_ROWS,
    RawRow,
    TableLayout,
    find_header,
    is_data_row,
    letter_header,
    plan_layout,
    row_to_draft,
)
from app.datasets.records import FILE_ROW, ExampleDraft, FileFormat, Finding

logger = logging.getLogger(__name__)

Item = ExampleDraft | Finding
PREVIEW_ROWS = 10


@dataclass(slots=True)
class FileReading:
    """An open upload. The attributes are known before iterating; iterating yields the examples
    and findings in file order, once, and closes what was opened. ``rows_read`` counts data rows
    (examples, and rows that could not be read) once iteration has finished."""

    format: FileFormat | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet_names: list[str] = field(default_factory=list)
    sheet: str | None = None
    header_row: int | None = None
    headers: tuple[str, ...] = ()
    mapping: ColumnMapping | None = None
    guess: MappingGuess | None = None
    findings: list[Finding] = field(default_factory=list)
    rows_read: int = 0
    origin: str = ""
    # the first rows of a table, read ahead to find the header (and shown as the preview)
    buffered: list[RawRow | Finding] = field(default_factory=list)
    _items: Iterator[Item] | None = None
    _closers: list[Callable[[], object]] = field(default_factory=list)
    _fraction: Callable[[], float | None] | None = None

    def fraction_read(self) -> float | None:
        """How much of the file has been read so far (0..1), for a progress bar; None when it
        cannot be told. Text files go by bytes, workbooks by rows against the declared size."""
        try:
            value = self._fraction() if self._fraction else None
        except (OSError, ValueError):  # the file was closed meanwhile
            return None
        return None if value is None else min(max(value, 0.0), 1.0)

    def __iter__(self) -> Iterator[Item]:
        last_row = 0
        try:
            yield from (self._stamp(f) for f in self.findings)
            for item in self._items or ():
                item = self._stamp(item)
                if isinstance(item, ExampleDraft) or findings.scope_of(item.code) == "row":
                    self.rows_read += 1
                    last_row = item.row
                yield item
            if self.rows_read == 0 and self._items is not None:
                yield self._stamp(findings.make("no_examples", FILE_ROW))
        except Exception as error:  # the boundary: a reader bug must reach the user as a finding
            logger.exception("reading an upload failed after row %s", last_row)
            yield self._stamp(
                findings.make(
                    "read_failed", FILE_ROW, after_row=last_row, reason=type(error).__name__
                )
            )
        finally:
            self.close()

    def _stamp(self, item: Item) -> Item:
        if self.origin and not item.origin:
            return replace(item, origin=self.origin)
        return item

    def close(self) -> None:
        closers, self._closers = self._closers, []
        for closer in reversed(closers):
            try:
                closer()
            except Exception:  # closing must never hide the report
                logger.warning("closing an upload failed", exc_info=True)

    def __enter__(self) -> FileReading:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _table_items(
    reading: FileReading, rows: Iterator[RawRow | Finding], start: int, layout: TableLayout
) -> Iterator[Item]:
    def from_rows(source: Iterator[RawRow | Finding] | list[RawRow | Finding]) -> Iterator[Item]:
        for row in source:
            if isinstance(row, Finding):
                yield row
                continue
            draft, found = row_to_draft(row, layout, reading.origin)
            yield from found
            if draft is not None:
                yield draft

    yield from from_rows(reading.buffered[start:])
    yield from from_rows(rows)


def _buffer(rows: Iterator[RawRow | Finding], wanted: int) -> list[RawRow | Finding]:
    buffered: list[RawRow | Finding] = []
    non_blank = 0
    for row in rows:
        buffered.append(row)
        if isinstance(row, RawRow) and not row.blank:
            non_blank += 1
            if non_blank >= wanted:
                break
    return buffered


def _open_table(
    reading: FileReading, rows: Iterator[RawRow | Finding], mapping: ColumnMapping | None
) -> None:
    reading.buffered = _buffer(rows, HEADER_SCAN_ROWS + PREVIEW_ROWS)
    raw = [row for row in reading.buffered if isinstance(row, RawRow)]
    names = [name for name in (mapping.to_dict().values() if mapping else ()) if name]
    index = find_header(raw, names)
    if index is None:
        reading.findings += [f for f in reading.buffered if isinstance(f, Finding)]
        reading.findings.append(findings.make("no_examples", FILE_ROW))
        return
    header = raw[index]
    start = reading.buffered.index(header) + 1
    if not names and is_data_row(header):
        start -= 1  # no header row at all: the first row is an example; columns go by letter
        header = letter_header(raw)
    layout, reading.guess, problems = plan_layout(header, mapping)
    reading.header_row = header.number or None
    reading.headers = layout.headers if layout else tuple(text.strip() for text in header.texts)
    reading.findings += problems
    if layout is None:
        return
    reading.mapping = layout.mapping
    reading._items = _table_items(reading, rows, start, layout)


def _open_xlsx(
    reading: FileReading,
    opened: sources.OpenedFile,
    sheet: str | None,
    mapping: ColumnMapping | None,
) -> None:
    workbook, problem = xlsx_reader.open_workbook(opened.stream)
    if workbook is None:
        reading.findings.append(problem or findings.make("workbook_unreadable", FILE_ROW))
        return
    reading._closers.append(workbook.close)
    reading.sheet_names = xlsx_reader.sheet_names(workbook)
    worksheet, problem = xlsx_reader.choose_sheet(workbook, sheet)
    if worksheet is None:
        reading.findings.append(problem or findings.make("no_examples", FILE_ROW))
        return
    reading.sheet = worksheet.title
    declared = xlsx_reader.declared_rows(worksheet)
    if declared:
        reading._fraction = lambda: reading.rows_read / declared
    _open_table(reading, xlsx_reader.iter_rows(worksheet), mapping)


def _open_text(
    reading: FileReading, opened: sources.OpenedFile, mapping: ColumnMapping | None
) -> None:
    assert reading.encoding is not None
    stream = opened.stream
    size = stream.seek(0, 2)
    text = csv_reader.open_text(stream, reading.encoding)
    if size:
        reading._fraction = lambda: stream.tell() / size
    reading._closers.append(text.detach)  # detach: closing the wrapper would close the stream
    if reading.format == "jsonl":
        reading._items = jsonl_reader.iter_examples(text, reading.origin)
    else:
        _open_table(reading, csv_reader.iter_rows(text, reading.delimiter or ","), mapping)


def read_file(
    source: sources.Source,
    *,
    filename: str | None = None,
    mapping: ColumnMapping | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    origin: str = "",
) -> FileReading:
    """Open an upload for ingestion. ``mapping`` None means "guess from the headers" (a
    ``mapping_guessed`` warning says when the guess was only by position); ``sheet`` None means
    the sheet that was active when the workbook was saved; ``encoding`` None means detect.
    ``filename`` supplies the extension when ``source`` is a file object."""
    reading = FileReading(origin=origin)
    opened = sources.open_source(source, filename)
    if isinstance(opened, Finding):
        reading.findings.append(opened)
        return reading
    reading._closers.append(opened.close)
    try:
        detected = sources.detect(opened, encoding)
        reading.format, reading.encoding = detected.format, detected.encoding
        reading.delimiter = detected.delimiter
        reading.findings += detected.findings
        if detected.format == "xlsx":
            _open_xlsx(reading, opened, sheet, mapping)
        elif detected.format is not None:
            _open_text(reading, opened, mapping)
    except Exception as error:  # the boundary, as in FileReading.__iter__
        logger.exception("opening an upload failed")
        reading.findings.append(
            findings.make("read_failed", FILE_ROW, after_row=0, reason=type(error).__name__)
        )
        reading._items = None
    if reading._items is None:
        reading.close()
    return reading


@dataclass(slots=True)
class FileInspection:
    """What the mapping step shows: the detected format and encoding, the sheets, the header row
    and its columns, the first rows, the guessed mapping with its confidence, and the first
    examples as they would be read with that mapping."""

    format: FileFormat | None
    encoding: str | None
    delimiter: str | None
    sheet_names: list[str]
    sheet: str | None
    header_row: int | None
    headers: tuple[str, ...]
    preview: list[list[str]]
    examples: list[ExampleDraft]
    guess: MappingGuess | None
    mapping: ColumnMapping | None
    findings: list[Finding]

    @property
    def confidence(self) -> float:
        """How sure the guessed mapping is (1.0 exact names … 0.3 by position; 1.0 for JSONL)."""
        if self.format == "jsonl":
            return 1.0
        return self.guess.overall if self.guess else 0.0


def inspect_file(
    source: sources.Source,
    *,
    filename: str | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    mapping: ColumnMapping | None = None,
    preview_rows: int = PREVIEW_ROWS,
) -> FileInspection:
    """Look at the start of an upload without ingesting it (reads only the first rows)."""
    reading = read_file(source, filename=filename, mapping=mapping, sheet=sheet, encoding=encoding)
    preview = _preview(reading, preview_rows)
    examples: list[ExampleDraft] = []
    found: list[Finding] = []
    with reading:
        for item in reading:
            if isinstance(item, ExampleDraft):
                examples.append(item)
                if len(examples) >= preview_rows:
                    break
            else:
                found.append(item)
    return FileInspection(
        format=reading.format,
        encoding=reading.encoding,
        delimiter=reading.delimiter,
        sheet_names=reading.sheet_names,
        sheet=reading.sheet,
        header_row=reading.header_row,
        headers=reading.headers,
        preview=preview,
        examples=examples,
        guess=reading.guess,
        mapping=reading.mapping,
        findings=found,
    )


def _preview(reading: FileReading, count: int) -> list[list[str]]:
    rows = [row for row in reading.buffered if isinstance(row, RawRow) and not row.blank]
    after = [row for row in rows if reading.header_row is None or row.number > reading.header_row]
    return [list(row.texts) for row in after[:count]]
