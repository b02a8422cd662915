"""The report's summary is computed once per check and stored; pages use it while nothing
changed, compute it live while a change waits for its check, and fragments compute only what
they show."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.datasets.checking import recheck
from app.datasets.editing import fixes
from app.datasets.intake.samples import SAMPLES_DIR
from app.datasets.models import Dataset, Example
from app.datasets.report import summary
from app.db import get_engine
from tests.datasets.conftest import Team
from tests.datasets.factories import import_file
from tests.support import htmx_headers, login, soup


@pytest.fixture
def faq(session: Session, team: Team) -> Dataset:
    data = Path(SAMPLES_DIR / "support_faq_ja.csv").read_bytes()
    import_file(session, dataset=team.dataset, user=team.expert, name="faq.csv", data=data)
    session.refresh(team.dataset)
    return team.dataset


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _stats(page: Any) -> dict[str, str]:
    return {s["data-stat"]: s.get_text(strip=True) for s in soup(page).select("[data-stat]")}


def test_the_import_stores_the_summary_of_its_check(session: Session, faq: Dataset) -> None:
    assert faq.summary_generation == faq.check_requested
    live = summary.summarize(session, faq)
    stored = summary.current(session, faq)
    assert stored.exact_groups == live.exact_groups == 1
    assert stored.tokens == live.tokens and stored.by_code == live.by_code
    assert (stored.rows, stored.usable, stored.with_errors) == (live.rows, live.usable, 1)


def test_pages_show_the_stored_summary_until_a_change_then_compute_it_live(
    client: TestClient, session: Session, faq: Dataset, team: Team
) -> None:
    login(client, team.expert)
    url = f"/projects/{team.project.id}/datasets/{faq.id}"
    # Tamper with the stored figure: the page shows what is stored, proving nothing is recounted.
    faq.summary = {**faq.summary, "conflict_groups": 42}
    session.commit()
    assert _stats(client.get(url))["conflicts"] == "42"
    # A fix asks for a new check: until it ran, the page counts live (and is right at once).
    example = session.scalar(
        select(Example).where(Example.dataset_id == faq.id, Example.error_count > 0)
    )
    assert example is not None
    fixes.exclude(session, actor=team.expert, dataset=faq, example=example)
    session.commit()
    after_fix = _stats(client.get(url))
    assert after_fix["conflicts"] == "1" and after_fix["errors"] == "0"
    # The recheck stores the new summary: the page reads it again.
    assert recheck.recheck_dataset(faq.id).startswith("checked")
    session.expire_all()
    dataset = session.get(Dataset, faq.id)
    assert dataset is not None and dataset.summary_generation == dataset.check_requested
    assert dataset.summary["with_errors"] == 0


def test_the_rows_fragment_does_not_compute_the_summary(
    client: TestClient, faq: Dataset, team: Team
) -> None:
    login(client, team.expert)
    url = f"/projects/{team.project.id}/datasets/{faq.id}?show=all"
    with statements() as seen:
        rows = client.get(url, headers=htmx_headers("rows"))
    assert rows.status_code == 200 and rows.text.lstrip().startswith('<div id="rows"')
    # The summary's own queries (duplicate groups read the related rows, tokens every
    # example's estimate) are not run for the rows.
    groups = [s for s in seen if "dataset_finding.related" in s and "dataset_finding.id" not in s]
    assert not groups
    tokens = [s for s in seen if "example.token_estimate" in s and "example.turns" not in s]
    assert not tokens
    with statements() as seen:
        part = client.get(url, headers=htmx_headers("summary"))
    assert part.text.lstrip().startswith('<div id="summary"')
    assert not [s for s in seen if "LIMIT" in s and "example.turns" in s]  # no page of rows
