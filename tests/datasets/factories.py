"""Factories for the intake tests: files as people make them, and imports through the real path
(stored, inspected, confirmed, ingested by the same function the worker runs)."""

from __future__ import annotations

import io
import random
from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.intake import ingest, uploads
from app.datasets.models import Dataset, Upload

_VOCABULARY = """
order delivery invoice refund account password coupon warranty shipping address parcel receipt
membership points battery charger kettle blender vacuum filter cable adapter screen remote
speaker blanket pillow towel mug teapot bottle lid handle strap zipper pocket sleeve colour size
weight price discount voucher gift wrap express courier tracking number weekend holiday morning
evening store branch staff manager counter pickup locker return exchange repair manual setup
install update reset login email phone chat form survey review rating stock backorder preorder
cancel change confirm
"""
WORDS = tuple(_VOCABULARY.split())


def sentence(rng: random.Random, words: int = 14) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def distinct_rows(count: int, seed: int = 7) -> list[tuple[str, str]]:
    """Question/answer pairs made of random words: never near duplicates of each other."""
    rng = random.Random(seed)
    return [(sentence(rng, 12) + "?", sentence(rng, 22)) for _ in range(count)]


def receive(session: Session, *, dataset: Dataset, user: User, name: str, data: bytes) -> Upload:
    stream = io.BytesIO(data)
    upload = uploads.receive(session, actor=user, dataset=dataset, name=name, stream=stream)
    session.commit()
    return upload


def import_file(
    session: Session,
    *,
    dataset: Dataset,
    user: User,
    name: str,
    data: bytes,
    columns: dict[str, str] | None = None,
    encoding: str = "",
    sheet: str = "",
    split: str = "",
) -> Upload:
    """Upload, confirm the mapping (the guess unless ``columns``) and ingest, as the worker does."""
    upload = receive(session, dataset=dataset, user=user, name=name, data=data)
    guessed = {k: v or "" for k, v in (upload.inspection.get("mapping") or {}).items()}
    choices = uploads.Choices(
        encoding=encoding, sheet=sheet, columns=columns or guessed, split=split
    )
    uploads.confirm(session, actor=user, dataset=dataset, upload=upload, choices=choices)
    session.commit()
    ingest.ingest_upload(upload.id)
    session.expire_all()
    refreshed = session.get(Upload, upload.id)
    assert refreshed is not None
    return refreshed


def csv_bytes(rows: Sequence[Sequence[str]], encoding: str = "utf-8") -> bytes:
    from tests.datasets.support import excel_csv

    return excel_csv(rows, encoding)
