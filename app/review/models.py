"""The review queue's own rows: project review settings, decisions, leases and skips.

An example's status lives on ``example`` (``app.datasets.models``); every change of it made by a
reviewer is a compare-and-set on that row (status + revision), and the decision that caused it is
kept here. Decisions are append-only: one per reviewer and per revision of an example, so one
person can never count twice towards the approvals an example needs.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, or_
from sqlalchemy.orm import Mapped, mapped_column

from app.datasets.models import Example
from app.db import Base, CreatedAtMixin, utcnow
from app.i18n import gettext
from app.review.labels import SYSTEM_REASONS


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class ReviewSettings(Base):
    """A project's review rules (a manager setting); a project without a row uses the defaults."""

    __tablename__ = "review_settings"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    # 1 or 2 distinct reviewers must approve each example (never its author).
    approvals_required: Mapped[int] = mapped_column(default=1)
    # Serve each reviewer examples nobody else is looking at (a lease per example).
    auto_assign: Mapped[bool] = mapped_column(default=True)
    lease_minutes: Mapped[int] = mapped_column(default=10)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReviewDecision(CreatedAtMixin, Base):
    __tablename__ = "review_decision"
    __table_args__ = (
        UniqueConstraint("example_id", "revision", "reviewer_id"),
        Index("ix_review_decision_project_created", "project_id", "created_at"),
        Index("ix_review_decision_reviewer_created", "reviewer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    example_id: Mapped[int] = mapped_column(ForeignKey("example.id", ondelete="CASCADE"))
    revision: Mapped[int]  # the example's revision the reviewer saw and decided on
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")  # a reviewer's own words
    # A reason TuneDesk wrote (resolving a conflict…): a code of ``labels.SYSTEM_REASONS`` and its
    # parameters, put into words in the reader's language when shown.
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason_params: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    # True when this decision moved the example's status (the final approval, or a rejection).
    final: Mapped[bool] = mapped_column(default=False)

    @property
    def reason_text(self) -> str:
        """The reason in the reader's language (a reviewer's words are shown as written)."""
        template = SYSTEM_REASONS.get(self.reason_code or "")
        return gettext(template) % dict(self.reason_params or {}) if template else self.reason


class ReviewLease(Base):
    """Who is looking at a pending example right now (automatic distribution)."""

    __tablename__ = "review_lease"
    __table_args__ = (Index("ix_review_lease_project_expires", "project_id", "expires_at"),)

    example_id: Mapped[int] = mapped_column(
        ForeignKey("example.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime]


class ReviewSkip(CreatedAtMixin, Base):
    """A reviewer passed on an example; it is served to them again only when nothing else waits."""

    __tablename__ = "review_skip"

    example_id: Mapped[int] = mapped_column(
        ForeignKey("example.id", ondelete="CASCADE"), primary_key=True
    )
    reviewer_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True
    )


# The queue's "oldest waiting example" and date filters read pending examples by submission
# time; declared here (on the datasets table) because only the review queue needs it.
Index(
    "ix_example_project_status_submitted",
    Example.project_id,
    Example.status,
    Example.submitted_at,
)

# Filtering the table by finding code reads only the examples that have findings: a partial
# index on them keeps that fast when most examples are clean.
HAS_FINDINGS = or_(Example.warning_count > 0, Example.error_count > 0)
Index(
    "ix_example_project_status_findings",
    Example.project_id,
    Example.status,
    Example.id,
    postgresql_where=HAS_FINDINGS,
    sqlite_where=HAS_FINDINGS,
)
