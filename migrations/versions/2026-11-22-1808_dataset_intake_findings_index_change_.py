"""dataset intake: findings index, change log, upload progress

Revision ID: 0008_intake
Revises: 0005_review
Create Date: 2026-11-22 18:08:43.895286
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0008_intake"
down_revision: str | Sequence[str] | None = "0005_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # New NOT NULL columns of existing tables have a server default: existing rows stay valid.
    op.create_table(
        "dataset_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("example_id", sa.Integer(), nullable=True),
        sa.Column("upload_id", sa.Integer(), nullable=True),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("batch", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user.id"],
            name=op.f("fk_dataset_change_actor_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_dataset_change_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["example_id"],
            ["example.id"],
            name=op.f("fk_dataset_change_example_id_example"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["upload.id"],
            name=op.f("fk_dataset_change_upload_id_upload"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_change")),
    )
    with op.batch_alter_table("dataset_change", schema=None) as batch_op:
        batch_op.create_index("ix_dataset_change_dataset", ["dataset_id", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_dataset_change_example_id"), ["example_id"], unique=False
        )

    op.create_table(
        "dataset_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=True),
        sa.Column("example_id", sa.Integer(), nullable=True),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=24), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("column", sa.String(length=255), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("related", sa.JSON(), nullable=False),
        sa.Column("span", sa.JSON(), nullable=True),
        sa.Column("dismissed_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_dataset_finding_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["example_id"],
            ["example.id"],
            name=op.f("fk_dataset_finding_example_id_example"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["upload.id"],
            name=op.f("fk_dataset_finding_upload_id_upload"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_finding")),
    )
    with op.batch_alter_table("dataset_finding", schema=None) as batch_op:
        batch_op.create_index("ix_dataset_finding_code", ["dataset_id", "code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_dataset_finding_example_id"), ["example_id"], unique=False
        )
        batch_op.create_index(
            "ix_dataset_finding_severity", ["dataset_id", "severity"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dataset_finding_upload_id"), ["upload_id"], unique=False
        )

    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sample_id", sa.String(length=60), nullable=True))
        batch_op.add_column(
            sa.Column("near_duplicate_threshold", sa.Double(), nullable=False, server_default="0.8")
        )
        batch_op.add_column(
            sa.Column(
                "check_status", sa.String(length=12), nullable=False, server_default="current"
            )
        )
        batch_op.add_column(
            sa.Column("check_requested", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("check_done", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("check_started_at", app.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("checked_at", app.db.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("example", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_example_upload_id"))
        batch_op.create_index("ix_example_upload_row", ["upload_id", "source_row"], unique=False)
        batch_op.create_index(
            "ix_example_dataset_order",
            [
                "dataset_id",
                "upload_id",
                "source_row",
                "id",
                "status",
                "error_count",
                "warning_count",
            ],
            unique=False,
        )
        batch_op.create_index(
            "ix_example_dataset_stats",
            ["dataset_id", "status", "error_count", "warning_count", "token_estimate"],
            unique=False,
        )

    with op.batch_alter_table("upload", schema=None) as batch_op:
        batch_op.add_column(sa.Column("split", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("inspection", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("phase", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("progress", sa.Double(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("queued_at", app.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("heartbeat_at", app.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))

    # ### end Alembic commands ###


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("upload", schema=None) as batch_op:
        batch_op.drop_column("attempts")
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("queued_at")
        batch_op.drop_column("progress")
        batch_op.drop_column("phase")
        batch_op.drop_column("inspection")
        batch_op.drop_column("split")

    with op.batch_alter_table("example", schema=None) as batch_op:
        batch_op.drop_index("ix_example_dataset_stats")
        batch_op.drop_index("ix_example_dataset_order")
        batch_op.drop_index("ix_example_upload_row")
        batch_op.create_index(batch_op.f("ix_example_upload_id"), ["upload_id"], unique=False)

    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.drop_column("checked_at")
        batch_op.drop_column("check_started_at")
        batch_op.drop_column("check_done")
        batch_op.drop_column("check_requested")
        batch_op.drop_column("check_status")
        batch_op.drop_column("near_duplicate_threshold")
        batch_op.drop_column("sample_id")

    with op.batch_alter_table("dataset_finding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_finding_upload_id"))
        batch_op.drop_index("ix_dataset_finding_severity")
        batch_op.drop_index(batch_op.f("ix_dataset_finding_example_id"))
        batch_op.drop_index("ix_dataset_finding_code")

    op.drop_table("dataset_finding")
    with op.batch_alter_table("dataset_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_change_example_id"))
        batch_op.drop_index("ix_dataset_change_dataset")

    op.drop_table("dataset_change")
    # ### end Alembic commands ###
