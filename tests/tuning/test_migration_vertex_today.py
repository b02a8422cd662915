"""The 2026-12 migration from the previous head: an administrator's edited catalog keeps its
edits, the models Google retired are flagged (not deleted), and the new columns appear."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from alembic import command
from sqlalchemy import create_engine, inspect, text

from app.migrate import alembic_config
from app.tuning.catalog import parse_catalog

PREVIOUS_HEAD = "0011_big_datasets"
INSERT = (
    "INSERT INTO tuning_catalog_override (id, yaml_text, created_at) "
    "VALUES (1, :t, CURRENT_TIMESTAMP)"
)
ROOT = Path(__file__).resolve().parents[2]


def _catalog_before() -> str:
    """The shipped catalog of the previous release, as an administrator edited it."""
    shipped = subprocess.run(
        ["git", "show", "78f7fe5:app/tuning/catalog.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    old = shipped.stdout if shipped.returncode == 0 else OLD_CATALOG
    return old.replace(
        "training_price_per_million_tokens: 5.00", "training_price_per_million_tokens: 4.20", 1
    ).replace("display_name: Gemini 2.5 Flash\n", "display_name: Our 2.5 Flash\n", 1)


def test_an_edited_catalog_keeps_its_edits_and_flags_retired_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
    command.upgrade(alembic_config(url), PREVIOUS_HEAD)
    engine = create_engine(url)
    before = _catalog_before()
    with engine.begin() as connection:
        connection.execute(
            text(INSERT),
            {"t": before},
        )
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as connection:
        after = connection.execute(text("SELECT yaml_text FROM tuning_catalog_override")).scalar()
    columns = {c["name"] for c in inspect(engine).get_columns("tuning_job")}
    engine.dispose()
    assert {"parent_job_id", "default_checkpoint_id", "unrecorded_remote_name"} <= columns
    catalog = parse_catalog(after)
    flash = catalog.get("gemini-2.5-flash")
    assert flash is not None and flash.status == "retired"  # flagged, not deleted
    assert flash.price_per_million == 4.20 and flash.display_name == "Our 2.5 Flash"  # edits kept
    assert flash.successor == "gemini-3.5-flash"
    assert str(flash.retirement_date) == "2026-10-20"
    assert catalog.default_model == "gemini-3.5-flash"
    assert next(m.id for m in catalog.choices()) == "gemini-3.5-flash"
    assert "# Updated by TuneDesk on upgrade" in after
    assert "PRICES ARE UNVERIFIED" in after  # the administrator's comments survive
    ids = [m["id"] for m in yaml.safe_load(after)["models"]]
    assert ids[:5] == [m["id"] for m in yaml.safe_load(before)["models"]]  # order kept


def test_a_catalog_without_retired_models_is_left_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'untouched.sqlite3'}"
    command.upgrade(alembic_config(url), PREVIOUS_HEAD)
    engine = create_engine(url)
    own = (ROOT / "app" / "tuning" / "catalog.yaml").read_text(encoding="utf-8")
    with engine.begin() as connection:
        connection.execute(
            text(INSERT),
            {"t": own},
        )
    command.upgrade(alembic_config(url), "head")
    command.downgrade(alembic_config(url), PREVIOUS_HEAD)  # and back: the columns go again
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT yaml_text FROM tuning_catalog_override")).scalar()
    columns = {c["name"] for c in inspect(engine).get_columns("tuning_job")}
    engine.dispose()
    assert kept == own
    assert "parent_job_id" not in columns


OLD_CATALOG = """default_model: gemini-2.5-flash
models:
  - id: gemini-2.5-flash
    display_name: Gemini 2.5 Flash
    notes: PRICES ARE UNVERIFIED
    adapter_sizes: [1, 2, 4, 8, 16]
    default_adapter_size: 4
    max_example_tokens: 131072
    max_validation_examples: 5000
    training_price_per_million_tokens: 5.00
    status: available
"""
