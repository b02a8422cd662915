"""The sample datasets of ``app/datasets/samples`` (``samples.yaml``): offered in a project's
empty state, loaded in one click through the same upload and import path as any file."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import User
from app.datasets import service
from app.datasets.intake import uploads
from app.datasets.models import Dataset
from app.errors import NotFound
from app.i18n import _, get_locale
from app.projects.models import Project

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "samples"
# Manifest column names → the mapping's fields.
COLUMN_FIELDS = {
    "input": "input",
    "output": "output",
    "system": "system",
    "split": "split",
    "category": "tag",
}


@dataclass(frozen=True)
class Sample:
    id: str
    data: dict[str, Any]

    def text(self, key: str) -> str:
        value = self.data.get(key) or {}
        return str(value.get(get_locale()) or value.get("en") or "")

    @property
    def title(self) -> str:
        return self.text("title")

    @property
    def description(self) -> str:
        return self.text("description")

    @property
    def language(self) -> str:
        return str(self.data.get("language", ""))

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.data.get("counts") or {})

    def planted(self) -> list[dict[str, Any]]:
        """The planted problems with their note in the current language."""
        locale = get_locale()
        return [
            {
                **problem,
                "note_text": (problem.get("note") or {}).get(locale)
                or (problem.get("note") or {}).get("en", ""),
            }
            for problem in self.data.get("planted_problems") or []
        ]


@lru_cache
def _manifest() -> tuple[Sample, ...]:
    data = yaml.safe_load((SAMPLES_DIR / "samples.yaml").read_text(encoding="utf-8"))
    return tuple(Sample(str(item["id"]), item) for item in data.get("samples") or [])


def all_samples() -> list[Sample]:
    return list(_manifest())


def get_sample(sample_id: str) -> Sample:
    for sample in _manifest():
        if sample.id == sample_id:
            return sample
    raise NotFound(_("There is no such sample dataset."))


def _columns(sample: Sample) -> dict[str, str]:
    if sample.data.get("format") == "jsonl":
        return {}
    columns = sample.data.get("columns") or {}
    return {field: str(columns[name]) for name, field in COLUMN_FIELDS.items() if columns.get(name)}


def load(session: Session, *, actor: User, project: Project, sample_id: str) -> Dataset:
    """Create the sample's dataset and queue its files for import (in the user's language)."""
    sample = get_sample(sample_id)
    dataset = service.create_dataset(
        session,
        actor=actor,
        project=project,
        name=sample.text("dataset_name"),
        description=sample.description,
    )
    dataset.sample_id = sample.id
    for item in sample.data.get("files") or []:
        path = SAMPLES_DIR / str(item["path"])
        with path.open("rb") as stream:
            upload = uploads.receive(
                session, actor=actor, dataset=dataset, name=path.name, stream=stream
            )
        choices = uploads.Choices(
            encoding="", columns=_columns(sample), split=str(item.get("split") or "")
        )
        uploads.confirm(session, actor=actor, dataset=dataset, upload=upload, choices=choices)
    audit.record(
        session,
        actor=actor,
        action="dataset.load_sample",
        object_type="dataset",
        object_id=dataset.id,
        project_id=project.id,
        summary=sample.id,
    )
    return dataset
