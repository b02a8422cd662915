"""The Gemini connection an administrator saved (one row). Every column left NULL follows the
environment; credentials are stored encrypted (``app.genai.crypto``) and never shown again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base

SINGLETON_ID = 1


class GeminiConnection(Base):
    __tablename__ = "gemini_connection"

    id: Mapped[int] = mapped_column(primary_key=True)  # always SINGLETON_ID
    mode: Mapped[str | None] = mapped_column(String(16))
    vertex_project: Mapped[str | None] = mapped_column(String(100))
    vertex_location: Mapped[str | None] = mapped_column(String(64))
    vertex_bucket: Mapped[str | None] = mapped_column(String(222))
    vertex_base_url: Mapped[str | None] = mapped_column(String(500))
    storage_base_url: Mapped[str | None] = mapped_column(String(500))
    access_token_encrypted: Mapped[str | None] = mapped_column(Text)
    service_account_key_encrypted: Mapped[str | None] = mapped_column(Text)
    # Shown instead of the key: which account it is, and since when.
    service_account_email: Mapped[str | None] = mapped_column(String(320))
    key_uploaded_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    def __repr__(self) -> str:  # never let a credential reach a log line through repr
        return f"<GeminiConnection mode={self.mode!r} project={self.vertex_project!r}>"
