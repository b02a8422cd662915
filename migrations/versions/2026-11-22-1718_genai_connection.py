"""genai connection: the Gemini connection an administrator saved (one row, secrets encrypted)

Revision ID: 0002_genai_connection
Revises: 0001_foundation
Create Date: 2026-11-22 17:18:06.882744
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0002_genai_connection"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gemini_connection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=True),
        sa.Column("vertex_project", sa.String(length=100), nullable=True),
        sa.Column("vertex_location", sa.String(length=64), nullable=True),
        sa.Column("vertex_bucket", sa.String(length=222), nullable=True),
        sa.Column("vertex_base_url", sa.String(length=500), nullable=True),
        sa.Column("storage_base_url", sa.String(length=500), nullable=True),
        sa.Column("access_token_encrypted", sa.Text(), nullable=True),
        sa.Column("service_account_key_encrypted", sa.Text(), nullable=True),
        sa.Column("service_account_email", sa.String(length=320), nullable=True),
        sa.Column("key_uploaded_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user.id"],
            name=op.f("fk_gemini_connection_updated_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gemini_connection")),
    )


def downgrade() -> None:
    op.drop_table("gemini_connection")
