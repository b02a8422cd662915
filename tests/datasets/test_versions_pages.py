"""Version pages: creating one through the overlap check, the version page (counts, histogram,
downloads, accepted overlaps, the tune button), the diff against the previous version, and the
frozen examples."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.datasets.models import Example, ExampleStatus
from app.datasets.versions import builds, service
from app.datasets.versions.models import DatasetVersion
from tests.review.factories import Team, approved_set, pending, team
from tests.support import get_page, login, soup, toasts


def _form(t: Team, **extra: str) -> dict[str, str]:
    return {
        "dataset_id": str(t.dataset.id),
        "note": "First set",
        "kind": "full",
        "pilot_size": "100",
        "seed": "42",
        "validation_percent": "10",
        **extra,
    }


def test_list_is_empty_then_shows_versions(
    client: TestClient, session: Session, htmx: bool
) -> None:
    t = team(session)
    login(client, t.manager)
    page = soup(get_page(client, f"/projects/{t.project.id}/versions", htmx))
    assert page.select_one(".empty-state h2").get_text() == "No versions yet"
    approved_set(session, t, 10)
    version = service.create_version(
        session, actor=t.manager, dataset=t.dataset, request=service.VersionRequest(note="n1")
    )
    session.commit()
    page = soup(get_page(client, f"/projects/{t.project.id}/versions", htmx))
    row = page.select_one(f"#version-{version.id}").get_text(" ", strip=True)
    assert row.startswith("FAQ v1") and "n1" in row
    login(client, t.viewer)
    page = soup(get_page(client, f"/projects/{t.project.id}/versions", htmx))
    assert page.select_one("#new-version") is None and page.select_one(f"#version-{version.id}")


def test_create_through_the_overlap_check(client: TestClient, session: Session) -> None:
    t = team(session)
    approved_set(session, t, 12)
    for split in ("train", "test"):
        pending(
            session,
            t,
            question="Is there a student discount?",
            answer="Yes, 10 %.",
            split=split,
            status=ExampleStatus.APPROVED,
        )
    login(client, t.manager)
    new = soup(client.get(f"/projects/{t.project.id}/versions/new"))
    assert new.select_one("#f-dataset_id option[selected]")["value"] == str(t.dataset.id)
    checked = client.post(f"/projects/{t.project.id}/versions/check", data=_form(t))
    page = soup(checked)
    assert page.select_one("[data-split='test']").get_text(strip=True) == "1"
    pairs = page.select("#leak-pairs tbody tr")
    assert len(pairs) == 1 and "Same example" in pairs[0].get_text()
    fingerprint = page.select_one("input[name=fingerprint]")["value"]
    refused = client.post(
        f"/projects/{t.project.id}/versions", data=_form(t, fingerprint=fingerprint)
    )
    assert refused.status_code == 200 and "accept the overlaps explicitly" in " ".join(
        toasts(refused)
    )
    assert session.scalar(select(DatasetVersion)) is None
    # Creating runs in the background: the form answers at once with the build's page.
    created = client.post(
        f"/projects/{t.project.id}/versions",
        data=_form(t, fingerprint=fingerprint, acknowledge="true"),
    )
    assert created.status_code == 303
    build_url = created.headers["location"]
    waiting = soup(client.get(build_url))
    assert waiting.select_one("#version-build")["hx-trigger"] == "every 1s"
    assert builds.run_build(_build_id(build_url)).startswith("version ")
    version = session.scalar(select(DatasetVersion))
    assert version is not None and version.leakage["total"] == 1
    done = client.get(build_url, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith(f"/{version.id}")
    detail = client.get(done.headers["location"])
    assert "1 overlap between training" in soup(detail).select_one("#leakage-record").get_text()
    assert any("was created" in toast for toast in toasts(detail))


def test_a_build_polled_by_htmx_moves_the_page_to_the_version(
    client: TestClient, session: Session
) -> None:
    t = team(session)
    approved_set(session, t, 5)
    login(client, t.manager)
    created = client.post(f"/projects/{t.project.id}/versions", data=_form(t))
    build_url = created.headers["location"]
    poll = client.get(build_url, headers={"HX-Request": "true", "HX-Target": "version-build"})
    assert poll.text.lstrip().startswith('<section id="version-build"')
    builds.run_build(_build_id(build_url))
    moved = client.get(build_url, headers={"HX-Request": "true", "HX-Target": "version-build"})
    version = session.scalar(select(DatasetVersion))
    assert version is not None
    assert json.loads(moved.headers["HX-Location"])["path"].endswith(f"/versions/{version.id}")


def test_a_version_without_training_examples_is_explained(
    client: TestClient, session: Session
) -> None:
    t = team(session)
    login(client, t.manager)
    created = client.post(f"/projects/{t.project.id}/versions", data=_form(t))
    build_url = created.headers["location"]
    assert builds.run_build(_build_id(build_url)) == "no training examples"
    page = soup(client.get(build_url)).select_one("#version-build-error")
    assert "no approved training examples" in page.get_text()


def test_overlaps_accepted_for_another_list_fail_the_build_with_a_way_back(
    client: TestClient, session: Session
) -> None:
    t = team(session)
    approved_set(session, t, 6)
    for split in ("train", "test"):
        pending(session, t, question="Gift wrap?", answer="Yes.", split=split, status="approved")
    login(client, t.manager)
    created = client.post(f"/projects/{t.project.id}/versions", data=_form(t))
    build_url = created.headers["location"]
    assert builds.run_build(_build_id(build_url)) == "overlaps to accept"
    failed = soup(client.get(build_url))
    assert failed.select_one("#version-build").get("hx-trigger") is None  # polling stops
    assert "accept them explicitly" in failed.select_one("#version-build-error").get_text()
    assert session.scalar(select(DatasetVersion)) is None


def _build_id(url: str) -> int:
    return int(url.rsplit("/", 1)[1])


def test_invalid_form_is_explained(client: TestClient, session: Session) -> None:
    t = team(session)
    approved_set(session, t, 3)
    login(client, t.manager)
    response = client.post(
        f"/projects/{t.project.id}/versions/check",
        data=_form(t, kind="pilot", pilot_size="zero", validation_percent="80"),
    )
    assert response.status_code == 422
    page = soup(response)
    assert "Enter a number of examples" in page.select_one("#f-pilot_size-error").get_text()
    assert "between 0 and 50" in page.select_one("#f-validation_percent-error").get_text()


def test_version_page(client: TestClient, session: Session, htmx: bool) -> None:
    t = team(session)
    approved_set(session, t, 20, tag="billing")
    pending(
        session,
        t,
        question='=HYPERLINK("http://x")',
        answer="Formula?",
        split="test",
        status=ExampleStatus.APPROVED,
    )
    version = service.create_version(
        session, actor=t.manager, dataset=t.dataset, request=service.VersionRequest(note="Base")
    )
    session.commit()
    login(client, t.manager)
    url = f"/projects/{t.project.id}/versions/{version.id}"
    page = soup(get_page(client, url, htmx))
    assert page.select_one("[data-split='train']").get_text(strip=True) == "18"
    assert page.select_one("[data-split='validation']").get_text(strip=True) == "2"
    tune = page.select_one("#tune-version")
    assert tune["href"] == f"/projects/{t.project.id}/tuning/new?version={version.id}"
    assert page.select_one("#token-histogram tbody tr") is not None
    chart = page.select_one("#token-chart")
    assert json.loads(chart["data-labels"])["test"] == "Test"
    assert sum(row[1] for row in json.loads(chart["data-histogram"])) == 18
    assert "first version" in page.select_one("#version-diff").get_text()
    links = {
        a["data-format"] + ":" + a.get("data-split", "all"): a["href"]
        for a in page.select("#downloads a[data-format]")
    }
    assert set(links) == {
        "vertex:train",
        "openai:train",
        "vertex:validation",
        "openai:validation",
        "vertex:test",
        "openai:test",
        "csv:all",
    }
    vertex = client.get(links["vertex:train"])
    assert vertex.headers["content-disposition"] == 'attachment; filename="faq-v1-train.jsonl"'
    assert vertex.content == service.file_path(version, "train").read_bytes()
    exported = client.get(links["csv:all"]).text
    assert exported.startswith("\ufeff") and "'=HYPERLINK" in exported
    login(client, t.reviewer)
    assert soup(client.get(url)).select_one("#tune-version") is None
    listing = soup(get_page(client, f"{url}/examples?split=test", htmx))
    assert "=HYPERLINK" in listing.select_one(".frozen-list").get_text()


def test_diff_against_the_previous_version(client: TestClient, session: Session) -> None:
    t = team(session)
    kept, changed, removed = approved_set(session, t, 3)
    approved_set(session, t, 5)
    first = service.create_version(
        session, actor=t.manager, dataset=t.dataset, request=service.VersionRequest()
    )
    session.commit()
    changed.turns = [changed.turns[0], {"role": "model", "text": "A brand new answer."}]
    changed.revision = 2
    changed.content_hash = "changed"
    removed.status = ExampleStatus.EXCLUDED
    added = pending(session, t, status=ExampleStatus.APPROVED)
    session.commit()
    second = service.create_version(
        session, actor=t.manager, dataset=t.dataset, request=service.VersionRequest()
    )
    session.commit()
    login(client, t.manager)
    page = soup(client.get(f"/projects/{t.project.id}/versions/{second.id}"))
    diff = page.select_one("#version-diff")
    assert "Changes since version 1" in diff.get_text()
    assert [a.get_text() for a in diff.select("#diff-added a")] == [f"#{added.id}"]
    assert [a.get_text() for a in diff.select("#diff-removed a")] == [f"#{removed.id}"]
    changed_item = diff.select_one("#diff-changed li")
    assert f"#{changed.id}" in changed_item.get_text()
    inserted = [ins.get_text() for ins in changed_item.select("ins")]
    assert inserted == ["brand", "new", "answer."]  # "A" is common to both answers
    assert changed_item.select_one("del") is not None
    frozen = service.frozen_examples(session, version_id=first.id)
    assert kept.id in {f.example_id for f in frozen}
    old = next(f for f in frozen if f.example_id == changed.id)
    assert old.content["turns"][1]["text"] != "A brand new answer."
    assert session.get(Example, removed.id) is not None
