"""The model catalog: the shipped facts, validation with messages that say where and what, and
an administrator's edited copy taking over (and being undone)."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import AuditEvent
from app.i18n import use_locale
from app.tuning import catalog
from tests.factories import create_user
from tests.support import get_page, login, soup, text_of, toasts


def test_shipped_catalog_holds_the_reference_facts() -> None:
    shipped = catalog.shipped()
    assert shipped.default_model == "gemini-3.5-flash"
    sizes = {model.id: model.adapter_sizes for model in shipped.models}
    assert sizes["gemini-3.5-flash"] == sizes["gemini-3.1-flash-lite"] == (1, 2, 4, 8, 16)
    assert sizes["gemini-2.5-pro"] == sizes["gemini-2.0-flash-001"] == (1, 2, 4, 8)
    for model in shipped.models:
        assert model.max_example_tokens == 131_072
        assert model.max_validation_examples == 5_000
        # No official price could be confirmed: every price says so.
        assert model.price_source == "unverified" and not model.price_verified
        assert model.price_url.startswith("https://cloud.google.com/")
        assert model.price_checked_on == date(2026, 12, 7)
    assert shipped.last_checked == date(2026, 12, 7)
    lite = shipped.get("gemini-2.0-flash-lite-001")
    assert lite is not None and lite.retired(date(2026, 11, 22))
    assert lite.successor == "gemini-3.1-flash-lite"
    # Today's tunable models (vertex-2026.md §1): 3.5 Flash (the default), 3.5 Flash-Lite,
    # 3.1 Flash-Lite; Gemini 3 tunes in two regions and is served from us/eu only.
    assert [m.id for m in shipped.choices()] == [
        "gemini-3.5-flash",
        "gemini-3.1-flash-lite",
        "gemini-3.5-flash-lite",
    ]
    flash = shipped.get("gemini-3.5-flash")
    assert flash is not None and flash.tuning_regions == ("us-central1", "europe-west4")
    assert flash.serving_location("us-central1") == "us"
    assert flash.serving_location("europe-west4") == "eu"
    assert flash.tuned_serving_price_multiplier == 1.5 and flash.continuous_tuning
    # 2.5 retired on 2026-10-20 and stays listed, with the model to re-tune on.
    for old, successor in [
        ("gemini-2.5-flash", "gemini-3.5-flash"),
        ("gemini-2.5-flash-lite", "gemini-3.1-flash-lite"),
        ("gemini-2.5-pro", "gemini-3.5-flash"),
    ]:
        model = shipped.get(old)
        assert model is not None and model.retired() and model.status == "retired"
        assert model.retirement_date == date(2026, 10, 20)
        assert shipped.successor_of(old).id == successor  # type: ignore[union-attr]


def test_the_admin_page_says_when_the_catalog_was_checked(
    client: TestClient, session: Session
) -> None:
    login(client, create_user(session, is_admin=True))
    fresh = soup(client.get("/admin/tuning-models")).select_one("#catalog-checked")
    assert "Last compared with Google's pages" in fresh.get_text()
    assert "more than 90 days" not in fresh.get_text()
    stale = catalog.shipped_text().replace("last_checked: 2026-12-07", "last_checked: 2026-01-05")
    client.post("/admin/tuning-models", data={"yaml_text": stale})
    warned = soup(client.get("/admin/tuning-models")).select_one("#catalog-checked")
    assert "That is more than 90 days ago" in warned.get_text()
    assert "callout-warning" in warned["class"]


BAD_YAML = """
default_model: gemini-x
models:
  - id: gemini-2.5-pro
    display_name: Pro
    adapter_sizes: [1, 2, 4, 16, 64]
    default_adapter_size: 4
    max_example_tokens: 131072
    max_validation_examples: 5000
  - id: gemini-2.5-pro
    display_name: Pro again
    adapter_sizes: [1, 4]
    default_adapter_size: 8
    max_example_tokens: many
    max_validation_examples: 5000
    retirement_date: 25/02/2026
    successor: gemini-9
    colour: blue
"""


def test_every_problem_is_listed_with_where_it_is() -> None:
    with pytest.raises(catalog.CatalogError) as raised:
        catalog.parse_catalog(BAD_YAML)
    problems = raised.value.problems
    joined = "\n".join(problems)
    assert (
        "Model “gemini-2.5-pro”, field “adapter_sizes”: "
        "each size must be one of 1, 2, 4, 8, 16, 32." in joined
    )
    assert "field “default_adapter_size”: it must be one of the model's adapter_sizes." in joined
    assert "field “max_example_tokens”: write a whole number of at least 1." in joined
    assert "field “retirement_date”: write a date as YYYY-MM-DD, for example 2026-02-25." in joined
    assert "field “colour”: this field is not known; check its spelling." in joined
    assert "The model “gemini-2.5-pro” is listed twice." in joined
    assert "its successor “gemini-9” is not in the list." in joined
    assert "default_model “gemini-x” is not in the list." in joined


def test_yaml_syntax_errors_give_the_line_in_the_readers_language() -> None:
    broken = "models:\n  - id: a\n    display_name: [unclosed\n"
    with use_locale("ja"), pytest.raises(catalog.CatalogError) as raised:
        catalog.parse_catalog(broken)
    assert "行目" in raised.value.problems[0]
    with pytest.raises(catalog.CatalogError) as raised:
        catalog.parse_catalog("just text")
    assert raised.value.problems == ["The catalog needs a “models:” list at the top level."]


EDITED = (
    catalog.shipped_text()
    .replace("training_price_per_million_tokens: 10.00", "training_price_per_million_tokens: 4.00")
    .replace("    price_source: unverified", "    price_source: official", 1)
)


def test_admin_edits_the_catalog_and_restores_the_shipped_one(
    client: TestClient, session: Session, htmx: bool
) -> None:
    admin = create_user(session, is_admin=True)
    login(client, admin)
    page = get_page(client, "/admin/tuning-models", htmx)
    assert page.status_code == 200
    rows = soup(page).select("#catalog-models tbody tr")
    assert [row["id"] for row in rows][:2] == [
        "model-gemini-3.5-flash",
        "model-gemini-3.5-flash-lite",
    ]
    assert "Unverified price" in rows[0].get_text()
    assert "gemini-3.5-flash" in soup(page).select_one("#f-yaml_text").get_text()

    refused = client.post("/admin/tuning-models", data={"yaml_text": BAD_YAML})
    assert refused.status_code == 422
    assert "listed twice" in soup(refused).select_one("#catalog-errors").get_text()
    assert catalog.current().source == "shipped"

    saved = client.post("/admin/tuning-models", data={"yaml_text": EDITED})
    assert saved.status_code == 303
    flash = client.get("/admin/tuning-models")
    assert "The model catalog was saved; new jobs use it within seconds." in toasts(flash)
    current = catalog.current()
    flash_model = current.get("gemini-3.5-flash")
    assert current.source == "override" and flash_model is not None
    assert flash_model.price_per_million == 4.0 and flash_model.price_verified
    assert "An edited catalog is in force" in text_of(flash)

    client.post("/admin/tuning-models/reset")
    assert catalog.current().source == "shipped"
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["tuning_catalog.update", "tuning_catalog.reset"]


def test_only_administrators_edit_the_catalog(client: TestClient, session: Session) -> None:
    login(client, create_user(session))
    assert client.get("/admin/tuning-models").status_code == 403
    assert client.post("/admin/tuning-models", data={"yaml_text": EDITED}).status_code == 403


def test_validation_limit_follows_the_share_rule() -> None:
    """5,000 validation examples, or 30 % of the training examples once there are more than
    1,000 of them (SFT overview, 2026-09-25)."""
    from app.tuning.preflight import validation_limit
    from app.tuning.recommend import DatasetStats

    flash = catalog.shipped().get("gemini-3.5-flash")
    assert flash is not None

    def limit(train: int, validation: int) -> int:
        return validation_limit(DatasetStats(train, validation, 0, 0, 0, 0.0, 0), flash)

    assert limit(100, 10) == 5_000
    assert limit(10_000, 4_000) == 3_000  # 30 % of 10,000
    assert limit(20_000, 4_000) == 5_000  # 30 % would be 6,000: the 5,000 cap holds
