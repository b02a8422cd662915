"""Streaming a version's downloads (OpenAI JSONL, CSV) with a session of their own: the
request's session is closed by the time the body is sent."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from app.datasets.versions import formats, queries
from app.db import new_session


def download_name(row: queries.VersionRow, split: str, extension: str, flavour: str = "") -> str:
    """``faq-v3-train-openai.jsonl``: dataset, version, split (ASCII-safe for every browser)."""
    slug = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in row.dataset.lower())
    slug = "-".join(part for part in slug.split("-") if part) or "dataset"
    suffix = f"-{flavour}" if flavour else ""
    return f"{slug}-v{row.version.number}-{split}{suffix}.{extension}"


# Bytes per step of a streamed body: one step per line cost a thread hop per example (13 s for
# 100,000 examples); a step of ~256 KiB keeps memory flat and the transfer fast.
CHUNK_BYTES = 256 * 1024


def in_chunks(pieces: Iterable[str]) -> Iterator[bytes]:
    """Join small pieces of text into chunks of about ``CHUNK_BYTES`` (UTF-8)."""
    buffer: list[str] = []
    size = 0
    for piece in pieces:
        buffer.append(piece)
        size += len(piece)
        if size >= CHUNK_BYTES // 2:  # characters: a Japanese one takes 3 bytes
            yield "".join(buffer).encode()
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode()


def openai_jsonl(version_id: int, split: str) -> Iterator[bytes]:
    with new_session() as session:
        rows = queries.stream_rows(session, version_id=version_id, splits=(split,))
        records = (
            formats.openai_line(content.get("system_instruction") or "", content["turns"])
            for _id, _split, content in rows
        )
        yield from in_chunks(formats.jsonl_lines(records))


def csv_file(version_id: int, splits: tuple[str, ...]) -> Iterator[bytes]:
    with new_session() as session:
        rows = queries.stream_rows(session, version_id=version_id, splits=splits)
        yield from in_chunks(formats.csv_lines(rows))
