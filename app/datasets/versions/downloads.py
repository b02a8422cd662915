"""Streaming a version's downloads (OpenAI JSONL, CSV) with a session of their own: the
request's session is closed by the time the body is sent."""

from __future__ import annotations

from collections.abc import Iterator

from app.datasets.versions import formats, queries
from app.db import new_session


def download_name(row: queries.VersionRow, split: str, extension: str, flavour: str = "") -> str:
    """``faq-v3-train-openai.jsonl``: dataset, version, split (ASCII-safe for every browser)."""
    slug = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in row.dataset.lower())
    slug = "-".join(part for part in slug.split("-") if part) or "dataset"
    suffix = f"-{flavour}" if flavour else ""
    return f"{slug}-v{row.version.number}-{split}{suffix}.{extension}"


def openai_jsonl(version_id: int, split: str) -> Iterator[bytes]:
    with new_session() as session:
        rows = queries.stream_rows(session, version_id=version_id, splits=(split,))
        records = (
            formats.openai_line(content.get("system_instruction") or "", content["turns"])
            for _id, _split, content in rows
        )
        for line in formats.jsonl_lines(records):
            yield line.encode()


def csv_file(version_id: int, splits: tuple[str, ...]) -> Iterator[bytes]:
    with new_session() as session:
        rows = queries.stream_rows(session, version_id=version_id, splits=splits)
        for text in formats.csv_lines(rows):
            yield text.encode()
