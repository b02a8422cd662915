"""review decisions: reasons written by TuneDesk stored as a code and parameters

Revision ID: 0010_review_reason_code
Revises: 0009_evaluations
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_review_reason_code"
down_revision: str | Sequence[str] | None = "0009_evaluations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("review_decision") as batch:
        batch.add_column(sa.Column("reason_code", sa.String(length=40), nullable=True))
        batch.add_column(
            sa.Column("reason_params", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("review_decision") as batch:
        batch.drop_column("reason_params")
        batch.drop_column("reason_code")
