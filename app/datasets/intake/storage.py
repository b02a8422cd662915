"""Uploaded files on disk, under ``<var dir>/uploads`` (web and worker share the var directory,
as they share a volume in production).

A file is copied in chunks while its SHA-256 is computed, and refused as soon as it passes the
size limit. It is kept only until its ingestion ends: the examples are in the database by then,
and deleting the file means personal data that a user redacts is not still lying on disk.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import BinaryIO

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.config import get_settings
from app.errors import ValidationFailed
from app.i18n import _, format_number

logger = logging.getLogger(__name__)

CHUNK = 1 << 20
KNOWN_EXTENSIONS = (".csv", ".tsv", ".tab", ".txt", ".xlsx", ".xlsm", ".jsonl", ".ndjson", ".json")
NAME_LIMIT = 200


@dataclass(frozen=True, slots=True)
class StoredFile:
    relative_path: str  # under the var directory
    sha256: str
    size: int


def uploads_dir() -> Path:
    return get_settings().var_dir / "uploads"


def absolute(relative_path: str) -> Path:
    return get_settings().var_dir / relative_path


def clean_name(name: str) -> str:
    """The file name as the user knows it (no folders, no control characters, not too long)."""
    base = PurePath(name.replace("\\", "/")).name
    base = "".join(char for char in base if char.isprintable()).strip()
    return base[:NAME_LIMIT] or "upload"


def limit_message(limit: int) -> str:
    return _(
        "The file is larger than the limit of %(limit)s MB. Split it into smaller files and "
        "upload them one after another: they all go into the same dataset."
    ) % {"limit": format_number(limit // (1024 * 1024))}


def save_stream(source: BinaryIO, *, name: str, limit: int) -> StoredFile:
    """Copy an uploaded file into the uploads folder; refuses files larger than ``limit``."""
    folder = uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    extension = PurePath(name).suffix.lower()
    extension = extension if extension in KNOWN_EXTENSIONS else ".bin"
    relative = f"uploads/{uuid.uuid4().hex}{extension}"
    target = absolute(relative)
    digest = hashlib.sha256()
    size = 0
    try:
        with target.open("wb") as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ValidationFailed({"file": limit_message(limit)})
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if size == 0:
        target.unlink(missing_ok=True)
        raise ValidationFailed(
            {"file": _("The file is empty. Choose the file with your examples.")}
        )
    return StoredFile(relative, digest.hexdigest(), size)


def copy_file(path: Path, *, name: str) -> StoredFile:
    """Store a file that is already on this computer (the sample datasets)."""
    with path.open("rb") as source:
        return save_stream(source, name=name, limit=2**62)


def delete(relative_path: str) -> None:
    if not relative_path:
        return
    try:
        os.unlink(absolute(relative_path))
    except FileNotFoundError:
        pass
    except OSError:
        logger.warning("could not delete the upload %s", relative_path, exc_info=True)


# Files are deleted once the transaction that stops needing them commits (never on rollback).
_DELETE_KEY = "tunedesk.datasets.delete_files"


def delete_after_commit(session: Session, relative_path: str) -> None:
    session.info.setdefault(_DELETE_KEY, []).append(relative_path)


@event.listens_for(Session, "after_commit")
def _delete_files(session: Session) -> None:
    if session.in_nested_transaction():
        return
    for relative_path in session.info.pop(_DELETE_KEY, []):
        delete(relative_path)


@event.listens_for(Session, "after_transaction_end")
def _forget_files(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_DELETE_KEY, None)
