"""Opening an upload and recognising what it is, from its content first and its name second.

A path is opened here; a binary file object is used as given (read from its beginning) and never
closed. A file object that cannot seek (a network stream) is spooled to a temporary file once,
because encoding detection and the reader each pass over the bytes.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import BinaryIO

from app.datasets.quality import findings
from app.datasets.reading.csv_reader import SNIFF_CHARS, sniff_delimiter
from app.datasets.reading.encoding import UTF8, UTF8_BOM, UTF16, detect_encoding, normalize_name
from app.datasets.reading.xlsx_reader import is_workbook
from app.datasets.records import FILE_ROW, FileFormat, Finding

Source = str | os.PathLike[str] | BinaryIO
SPOOL_IN_MEMORY = 8 * 1024 * 1024

WORKBOOK_EXTENSIONS = (".xlsx", ".xlsm")
JSONL_EXTENSIONS = (".jsonl", ".ndjson", ".json")
TABLE_EXTENSIONS = (".csv", ".tsv", ".tab", ".txt")
_BINARY_MAGIC = (
    (b"%PDF", "PDF"),
    (b"\x89PNG", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF8", "image"),
    (b"\x1f\x8b", "gzip"),
    (b"Rar!", "RAR"),
    (b"7z\xbc\xaf", "7z"),
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_FORMAT_NAMES: dict[str, str] = {
    "xlsx": "Excel workbook",
    "jsonl": "JSONL",
    "csv": "CSV",
    "tsv": "CSV",
}


@dataclass(slots=True)
class OpenedFile:
    stream: BinaryIO
    name: str
    owned: bool  # opened (or spooled) here, so closed here

    @property
    def extension(self) -> str:
        return PurePath(self.name).suffix.lower()

    def close(self) -> None:
        if self.owned:
            self.stream.close()


def open_source(source: Source, filename: str | None = None) -> OpenedFile | Finding:
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        try:
            return OpenedFile(open(path, "rb"), filename or path, owned=True)
        except OSError as error:
            return findings.make("file_unreadable", FILE_ROW, reason=error.strerror or str(error))
    name = filename or str(getattr(source, "name", "") or "")
    try:
        if source.seekable():
            source.seek(0)
            return OpenedFile(source, name, owned=False)
        spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        shutil.copyfileobj(source, spooled)
        spooled.seek(0)
        return OpenedFile(spooled, name, owned=True)  # type: ignore[arg-type]
    except (OSError, ValueError) as error:
        return findings.make("file_unreadable", FILE_ROW, reason=str(error))


@dataclass(slots=True)
class Detected:
    """What the file is. ``format`` is None when it cannot be read at all (see ``findings``)."""

    format: FileFormat | None = None
    encoding: str | None = None
    delimiter: str | None = None
    findings: list[Finding] = field(default_factory=list)


def _mismatch(opened: OpenedFile, actual: FileFormat, expected: tuple[str, ...]) -> list[Finding]:
    extension = opened.extension
    if not extension or extension in expected or extension == ".txt":
        return []
    return [
        findings.make(
            "format_mismatch", FILE_ROW, extension=extension, actual=_FORMAT_NAMES[actual]
        )
    ]


def _binary_kind(head: bytes) -> Detected | None:
    if head.startswith(_OLE_MAGIC):
        return Detected(findings=[findings.make("legacy_excel", FILE_ROW)])
    for magic, label in _BINARY_MAGIC:
        if head.startswith(magic):
            return Detected(findings=[findings.make("unsupported_format", FILE_ROW, detail=label)])
    return None


def detect(opened: OpenedFile, encoding: str | None = None) -> Detected:
    """Format, encoding and delimiter of an opened file."""
    stream = opened.stream
    head = stream.read(16)
    stream.seek(0)
    if not head:
        return Detected(findings=[findings.make("file_empty", FILE_ROW)])
    if head.startswith(_ZIP_MAGIC):
        if not is_workbook(stream):
            detail = "ZIP archive"
            return Detected(findings=[findings.make("unsupported_format", FILE_ROW, detail=detail)])
        return Detected("xlsx", findings=_mismatch(opened, "xlsx", WORKBOOK_EXTENSIONS))
    binary = _binary_kind(head)
    if binary is not None:
        return binary
    chosen = _choose_encoding(stream, head, encoding)
    if isinstance(chosen, Finding):
        return Detected(findings=[chosen])
    return _text_kind(opened, chosen)


def _choose_encoding(stream: BinaryIO, head: bytes, override: str | None) -> str | Finding:
    if override is None or not override.strip():
        detected = detect_encoding(stream).name
        return detected or findings.make("unknown_encoding", FILE_ROW)
    name = normalize_name(override)
    if name is None:
        return findings.make("encoding_not_supported", FILE_ROW, encoding=override)
    if name == UTF8 and head.startswith(b"\xef\xbb\xbf"):
        return UTF8_BOM  # otherwise the BOM sticks to the first column name
    return name


def read_text_head(stream: BinaryIO, encoding: str) -> str:
    stream.seek(0)
    wrapper = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
    try:
        return wrapper.read(SNIFF_CHARS)
    finally:
        wrapper.detach()
        stream.seek(0)


def _first_line_is_json_object(text: str) -> bool:
    line = text.lstrip("\ufeff \t\r\n").split("\n", 1)[0].strip()
    if not line.startswith("{"):
        return False
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return False


def _text_kind(opened: OpenedFile, encoding: str) -> Detected:
    sample = read_text_head(opened.stream, encoding)
    extension = opened.extension
    if extension in JSONL_EXTENSIONS or _first_line_is_json_object(sample):
        return Detected("jsonl", encoding, findings=_mismatch(opened, "jsonl", JSONL_EXTENSIONS))
    tabbed = extension in (".tsv", ".tab") or encoding.startswith(UTF16)
    delimiter = sniff_delimiter(sample, "\t" if tabbed else ",") or ("\t" if tabbed else ",")
    table_format: FileFormat = "tsv" if delimiter == "\t" else "csv"
    return Detected(
        table_format, encoding, delimiter, _mismatch(opened, table_format, TABLE_EXTENSIONS)
    )
