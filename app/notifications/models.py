"""In-app notifications (the bell), optionally also sent by e-mail."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedAtMixin


class EmailStatus(StrEnum):
    NONE = "none"  # SMTP not configured when the notification was made
    PENDING = "pending"  # waiting for the worker
    SENDING = "sending"  # claimed by a worker
    SENT = "sent"
    FAILED = "failed"


class Notification(CreatedAtMixin, Base):
    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_user_unread", "user_id", "read_at"),
        Index("ix_notification_email_status", "email_status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60))
    # Rendered in the reader's language when shown, so only the parameters are stored.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    link: Mapped[str] = mapped_column(String(500), default="")
    read_at: Mapped[datetime | None]
    email_status: Mapped[str] = mapped_column(String(12), default=EmailStatus.NONE)
    email_attempts: Mapped[int] = mapped_column(default=0)
    email_claimed_at: Mapped[datetime | None]
    email_error: Mapped[str] = mapped_column(String(500), default="")
