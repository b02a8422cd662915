"""The dataset pages: every GET as a full page and as an HTMX fragment, the mapping step, the
report with its filters, fixes answered with the refreshed report, downloads."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.datasets.intake import ingest
from app.datasets.intake.samples import SAMPLES_DIR
from app.datasets.models import Dataset, Example, Upload, UploadStatus
from tests.datasets.conftest import Team
from tests.datasets.factories import csv_bytes, distinct_rows, import_file
from tests.support import get_page, htmx_headers, login, soup, text_of, toasts


@pytest.fixture
def faq(session: Session, team: Team) -> Dataset:
    data = Path(SAMPLES_DIR / "support_faq_ja.csv").read_bytes()
    import_file(session, dataset=team.dataset, user=team.expert, name="faq.csv", data=data)
    return team.dataset


def _url(team: Team, tail: str = "") -> str:
    return f"/projects/{team.project.id}/datasets{tail}"


def _example(session: Session, dataset: Dataset, number: int) -> Example:
    found = session.scalar(
        select(Example).where(Example.dataset_id == dataset.id, Example.source_row == number)
    )
    assert found is not None
    return found


def test_the_empty_state_offers_an_upload_and_the_samples(
    client: TestClient, session: Session, team: Team, htmx: bool
) -> None:
    session.delete(team.dataset)
    session.commit()
    login(client, team.expert)
    page = get_page(client, _url(team), htmx)
    assert page.status_code == 200
    assert "No examples yet" in text_of(page)
    buttons = [b["data-sample"] for b in soup(page).select("button[data-sample]")]
    assert buttons == ["support-faq-ja", "brand-voice-en"]
    assert soup(page).select_one("input[type=file]")["data-max-bytes"] == str(
        get_settings().max_upload_bytes
    )


def test_a_viewer_sees_no_upload_form(client: TestClient, team: Team) -> None:
    login(client, team.viewer)
    page = client.get(_url(team))
    assert page.status_code == 200 and not soup(page).select("input[type=file]")


def test_loading_a_sample_queues_its_files(
    client: TestClient, session: Session, team: Team
) -> None:
    login(client, team.expert)
    response = client.post(_url(team, "/samples/brand-voice-en"))
    assert response.status_code == 303
    dataset = session.scalar(select(Dataset).where(Dataset.sample_id == "brand-voice-en"))
    assert (
        dataset is not None and dataset.name == "Larchmont Trail Co. product descriptions (sample)"
    )
    uploads = session.scalars(
        select(Upload).where(Upload.dataset_id == dataset.id).order_by(Upload.id)
    ).all()
    assert [(u.file_name, u.status, u.split) for u in uploads] == [
        ("brand_voice_en.jsonl", "queued", "train"),
        ("brand_voice_en_test.jsonl", "queued", "test"),
    ]
    assert response.headers["location"].endswith(f"/uploads/{uploads[0].id}")
    progress = client.get(response.headers["location"])
    section = soup(progress).select_one("#progress")
    assert section is not None and section["hx-trigger"] == "every 700ms"
    assert section.select_one("progress") is not None


def test_a_sample_in_japanese_gets_its_japanese_name(
    client: TestClient, session: Session, team: Team
) -> None:
    login(client, team.expert)
    client.cookies.set("lang", "ja")
    client.post(_url(team, "/samples/support-faq-ja"), headers={"Accept-Language": "ja"})
    dataset = session.scalar(select(Dataset).where(Dataset.sample_id == "support-faq-ja"))
    assert dataset is not None and dataset.name == "さくらマート サポートFAQ（サンプル）"


def test_upload_then_map_the_columns(client: TestClient, session: Session, team: Team) -> None:
    login(client, team.expert)
    data = csv_bytes(
        [["ID", "Customer wrote", "Our reply"], ["1", "Where is my parcel?", "It ships today."]]
    )
    response = client.post(
        _url(team), data={"name": "Mail"}, files={"file": ("mail.csv", data, "text/csv")}
    )
    assert response.status_code == 303
    upload = session.scalars(select(Upload).order_by(Upload.id.desc())).first()
    assert upload is not None and upload.status == UploadStatus.RECEIVED
    page = client.get(response.headers["location"])
    form = soup(page).select_one("#mapping-form")
    assert form is not None
    chosen = form.select_one("#f-output-column option[selected]")
    assert chosen is not None and chosen.text == "Our reply"  # "reply" is a known name
    # The question column was not recognised: the user picks it; the preview follows.
    preview = client.post(
        f"{response.headers['location']}/preview",
        data={"input_column": "Customer wrote", "output_column": "Our reply"},
        headers=htmx_headers("mapping"),
    )
    assert preview.status_code == 200 and "<html" not in preview.text
    cells = [td.get_text(strip=True) for td in soup(preview).select("#preview-examples td")]
    assert cells[:3] == ["2", "Where is my parcel?", "It ships today."]
    done = client.post(
        f"{response.headers['location']}/import",
        data={"input_column": "Customer wrote", "output_column": "Our reply"},
    )
    assert done.status_code == 303
    session.refresh(upload)
    assert upload.status == UploadStatus.QUEUED
    assert upload.mapping["input"] == "Customer wrote"


def test_the_import_needs_both_columns(client: TestClient, session: Session, team: Team) -> None:
    login(client, team.expert)
    data = csv_bytes([["a", "b"], ["x", "y"]])
    response = client.post(_url(team), files={"file": ("x.csv", data, "text/csv")})
    refused = client.post(f"{response.headers['location']}/import", data={"input_column": "a"})
    assert refused.status_code == 422
    assert "Choose the column with the ideal answers." in text_of(refused)


def test_an_upload_over_the_limit_is_refused_with_the_limit(
    client: TestClient, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "max_upload_mb", 1)
    login(client, team.expert)
    big = b"question,answer\n" + b"q," + b"a" * (1024 * 1024 + 10) + b"\n"
    response = client.post(
        _url(team, f"/{team.dataset.id}/uploads"), files={"file": ("big.csv", big, "text/csv")}
    )
    assert response.status_code == 422
    assert "larger than the limit of 1 MB" in text_of(response)


def test_the_report_as_page_and_fragments(
    client: TestClient, faq: Dataset, team: Team, htmx: bool
) -> None:
    login(client, team.viewer)
    page = get_page(client, _url(team, f"/{faq.id}"), htmx)
    assert page.status_code == 200
    stats = {s["data-stat"]: s.get_text(strip=True) for s in soup(page).select("[data-stat]")}
    assert stats == {
        "rows": "187",
        "usable": "186",
        "errors": "1",
        "warnings": "6",
        "duplicates": "1",
        "conflicts": "1",
        "pii": "2",
        "excluded": "0",
    }
    rows = [r["data-row"] for r in soup(page).select("#rows article.row-card")]
    assert rows == ["50", "51", "68", "73", "165", "169", "179"]
    # A viewer reads, but gets no buttons.
    assert not soup(page).select(".row-actions")
    # The e-mail address is highlighted where it is.
    mark = soup(page).select_one("#rows mark.hl-pii_email")
    assert mark is not None and mark.text == "t.yamada@example.jp"


def test_filters_return_the_rows_fragment(client: TestClient, faq: Dataset, team: Team) -> None:
    login(client, team.expert)
    url = _url(team, f"/{faq.id}")
    only = client.get(f"{url}?code=pii_phone", headers=htmx_headers("rows"))
    assert only.status_code == 200 and only.text.lstrip().startswith('<div id="rows"')
    assert [r["data-row"] for r in soup(only).select("article.row-card")] == ["169"]
    errors = client.get(f"{url}?severity=error", headers=htmx_headers("rows"))
    assert [r["data-row"] for r in soup(errors).select("article.row-card")] == ["179"]
    everything = client.get(f"{url}?show=all", headers=htmx_headers("rows"))
    assert "187 rows" in text_of(everything)
    options = [o.text for o in soup(client.get(url)).select("#f-code option")]
    assert "E-mail address (1)" in options and "Duplicate (2)" in options


def test_fixes_answer_with_the_refreshed_report(
    client: TestClient, session: Session, faq: Dataset, team: Team
) -> None:
    login(client, team.expert)
    base = _url(team, f"/{faq.id}")
    kept = _example(session, faq, 51)
    response = client.post(
        f"{base}/examples/{kept.id}/keep", data={"view": ""}, headers=htmx_headers("report")
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="report"')
    assert "Row 51 is kept; 1 duplicate was excluded." in toasts(response)
    duplicates = soup(response).select_one("[data-stat=duplicates]")
    assert duplicates is not None and duplicates.text == "0"
    # Without HTMX: back to the same view of the report.
    mail = _example(session, faq, 165)
    plain = client.post(f"{base}/examples/{mail.id}/redact", data={"view": "code=pii_email"})
    assert plain.status_code == 303 and plain.headers["location"] == f"{base}?code=pii_email"
    session.refresh(mail)
    assert "[EMAIL]" in mail.turns[1]["text"]


def test_inline_edit(client: TestClient, session: Session, faq: Dataset, team: Team) -> None:
    login(client, team.expert)
    base = _url(team, f"/{faq.id}")
    empty = _example(session, faq, 179)
    form = client.get(
        f"{base}/examples/{empty.id}/edit?view=", headers=htmx_headers(f"row-{empty.id}")
    )
    assert form.status_code == 200
    editor = soup(form).select_one(f"form#row-{empty.id}")
    assert editor is not None and editor["hx-target"] == "#report"
    assert [t.get_text() for t in editor.select("textarea[name=texts]")][1] == ""
    saved = client.post(
        f"{base}/examples/{empty.id}",
        data={
            "view": "",
            "roles": ["user", "model"],
            "texts": [empty.turns[0]["text"], "1月1日から販売します。"],
            "tag": "キャンペーン",
            "split": "train",
        },
        headers=htmx_headers("report"),
    )
    assert saved.status_code == 200
    assert "Row 179 saved and checked: no errors." in toasts(saved)
    errors = soup(saved).select_one("[data-stat=errors]")
    assert errors is not None and errors.text == "0"
    # A role that is neither user nor model comes back as the editor with the message.
    bad = client.post(
        f"{base}/examples/{empty.id}",
        data={"view": "", "roles": ["user", "assistant"], "texts": ["q", "a"]},
        headers=htmx_headers("report"),
    )
    assert bad.status_code == 422 and bad.headers["HX-Retarget"] == f"#row-{empty.id}"
    assert "use user (the question) or model" in text_of(bad)


def test_the_conflict_panel(client: TestClient, session: Session, faq: Dataset, team: Team) -> None:
    login(client, team.expert)
    base = _url(team, f"/{faq.id}")
    fifty, seventy_three = _example(session, faq, 50), _example(session, faq, 73)
    panel = client.get(
        f"{base}/examples/{seventy_three.id}/conflict",
        headers=htmx_headers(f"row-{seventy_three.id}"),
    )
    radios = [r["value"] for r in soup(panel).select("input[name=chosen]")]
    assert radios == [str(seventy_three.id), str(fifty.id)]
    resolved = client.post(
        f"{base}/examples/{seventy_three.id}/conflict",
        data={
            "view": "",
            "chosen": fifty.id,
            "answer": fifty.turns[1]["text"],
            "others": "exclude",
        },
        headers=htmx_headers("report"),
    )
    assert resolved.status_code == 200
    conflicts = soup(resolved).select_one("[data-stat=conflicts]")
    assert conflicts is not None and conflicts.text == "0"


def test_the_change_log(
    client: TestClient, session: Session, faq: Dataset, team: Team, htmx: bool
) -> None:
    login(client, team.expert)
    base = _url(team, f"/{faq.id}")
    copy = _example(session, faq, 68)
    client.post(f"{base}/examples/{copy.id}/exclude", data={"view": ""})
    page = get_page(client, f"{base}/history", htmx)
    items = soup(page).select("#change-log li")
    assert "Excluded" in items[0].get_text() and "faq.csv, row 68" in items[0].get_text()
    assert "Ken Sato" in items[0].get_text()
    assert items[0].select_one("del").text == "Waiting for review"
    assert items[0].select_one("ins").text == "Excluded"
    assert "Imported a file" in items[-1].get_text()


def test_downloads(client: TestClient, session: Session, team: Team) -> None:
    data = csv_bytes(
        [
            ["question", "answer"],
            ['=HYPERLINK("http://x")', "+1 for this"],
            ["-negative?", "@mention"],
            *([q, a] for q, a in distinct_rows(2)),
            ["", "no question"],
        ]
    )
    # A file name a spreadsheet would run as a formula: escaped in the findings CSV.
    import_file(session, dataset=team.dataset, user=team.expert, name="=cmd.csv", data=data)
    login(client, team.viewer)
    base = _url(team, f"/{team.dataset.id}")
    findings = client.get(f"{base}/findings.csv")
    assert findings.status_code == 200 and findings.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(findings.content.decode("utf-8-sig"))))
    assert table[0][:4] == ["File", "Row", "Column", "Code"]
    assert table[1][:4] == ["'=cmd.csv", "6", "question", "empty_input"]
    cleaned = client.get(f"{base}/cleaned.jsonl")
    lines = [json.loads(line) for line in cleaned.text.splitlines()]
    assert len(lines) == 4  # the row without a question is left out
    assert lines[0]["contents"][0]["parts"][0]["text"] == '=HYPERLINK("http://x")'


def test_the_csv_escapes_formula_cells() -> None:
    from app.datasets.report.downloads import escape_cell

    assert escape_cell("=1+1") == "'=1+1"
    assert escape_cell("＝SUM(A1)") == "'＝SUM(A1)"  # full width counts too
    assert [escape_cell(v) for v in ("+1", "-1", "@a", "\tx", "plain", 3)] == [
        "'+1",
        "'-1",
        "'@a",
        "'\tx",
        "plain",
        "3",
    ]


def test_the_overview_checklist_counts_examples(
    client: TestClient, faq: Dataset, team: Team
) -> None:
    login(client, team.viewer)
    page = client.get(f"/projects/{team.project.id}")
    step = soup(page).select("#next-steps li")[1]
    assert "done" in step["class"] and "187 examples so far." in step.get_text()
    assert step.select_one("a")["href"] == f"/projects/{team.project.id}/datasets"


def test_the_upload_page_polls_until_the_import_is_done(
    client: TestClient, session: Session, team: Team
) -> None:
    login(client, team.expert)
    data = csv_bytes([["question", "answer"], ["q?", "a."]])
    response = client.post(
        _url(team, f"/{team.dataset.id}/uploads"), files={"file": ("a.csv", data)}
    )
    url = response.headers["location"]
    client.post(f"{url}/import", data={"input_column": "question", "output_column": "answer"})
    polled = client.get(url, headers=htmx_headers("progress"))
    assert "hx-trigger" in polled.text and "Waiting for a worker" in polled.text
    upload = session.scalars(select(Upload).order_by(Upload.id.desc())).first()
    assert upload is not None
    ingest.ingest_upload(upload.id)
    done = client.get(url, headers=htmx_headers("progress"))
    assert done.status_code == 200
    assert json.loads(done.headers["HX-Location"])["path"] == _url(team, f"/{team.dataset.id}")
