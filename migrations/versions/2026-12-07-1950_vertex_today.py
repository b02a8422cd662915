"""Vertex as it is today: continuous tuning lineage, the served checkpoint, unrecorded remote
jobs, why metrics could not be read; an administrator's saved catalog flags retired models

Revision ID: 0012_vertex_today
Revises: 0011_big_datasets
Create Date: 2026-12-07 19:00:00

The data step keeps the administrator's edits: models Google retired (Gemini 2.5 on 2026-10-20,
the 2.0 models before) are flagged ``retired`` with their successors, never deleted; successors
the copy lacks are appended; a retired default gives way to its successor
(``app.tuning.catalog_upgrade``). Downgrading drops the columns and leaves the catalog as it is
(a flagged copy still reads on the older release: ``retired`` then shows as an unknown status
and the shipped list is used until someone saves it again).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0012_vertex_today"
down_revision: str | Sequence[str] | None = "0011_big_datasets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHIPPED = Path(__file__).resolve().parents[2] / "app" / "tuning" / "catalog.yaml"


def upgrade() -> None:
    with op.batch_alter_table("tuning_job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_job_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("parent_checkpoint_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("pre_tuned_model", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("default_checkpoint_id", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("unrecorded_remote_name", sa.String(length=300), nullable=True)
        )
        batch_op.add_column(sa.Column("metrics_note", sa.String(length=500), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_tuning_job_parent_job_id"), ["parent_job_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_tuning_job_parent_job_id_tuning_job"),
            "tuning_job",
            ["parent_job_id"],
            ["id"],
            ondelete="SET NULL",
        )
    _flag_retired_models()


def _flag_retired_models() -> None:
    from app.tuning.catalog_upgrade import flag_retired

    bind = op.get_bind()
    table = sa.table(
        "tuning_catalog_override", sa.column("id", sa.Integer), sa.column("yaml_text", sa.Text)
    )
    shipped = SHIPPED.read_text(encoding="utf-8")
    for row_id, text in bind.execute(sa.select(table.c.id, table.c.yaml_text)).all():
        updated = flag_retired(text, shipped)
        if updated is not None:
            bind.execute(table.update().where(table.c.id == row_id).values(yaml_text=updated))


def downgrade() -> None:
    with op.batch_alter_table("tuning_job", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_tuning_job_parent_job_id_tuning_job"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_tuning_job_parent_job_id"))
        batch_op.drop_column("metrics_note")
        batch_op.drop_column("unrecorded_remote_name")
        batch_op.drop_column("default_checkpoint_id")
        batch_op.drop_column("pre_tuned_model")
        batch_op.drop_column("parent_checkpoint_id")
        batch_op.drop_column("parent_job_id")
