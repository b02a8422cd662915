"""Notifications: create them in the caller's unit of work (e-mails are sent by the worker,
:mod:`app.notifications.delivery`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import rows_affected, utcnow
from app.i18n import gettext
from app.notifications.models import EmailStatus, Notification
from app.worker import enqueue_after_commit

logger = logging.getLogger(__name__)

# A worker that claimed an e-mail and died leaves it "sending"; after this it is sent again.
STUCK_AFTER = timedelta(minutes=10)
MAX_EMAIL_ATTEMPTS = 5


@dataclass(frozen=True)
class Kind:
    title: str
    body: str


# Each domain declares its notification texts (marked with N_) as data beside the code that
# sends them, and its wiring registers them at start-up: the web process and the worker (which
# sends the e-mails) know the same texts whatever modules they happened to import.
_KINDS: dict[str, Kind] = {}
# Parameters shown in words rather than as stored (a role code → "Reviewer"), by parameter name.
_PARAM_WORDS: dict[str, Callable[[Any], str]] = {}


def register_kinds(kinds: Mapping[str, Kind]) -> None:
    _KINDS.update(kinds)


def register_param_words(name: str, to_words: Callable[[Any], str]) -> None:
    """``%(<name>_label)s`` in a text shows the parameter ``name`` through ``to_words``."""
    _PARAM_WORDS[name] = to_words


def _params_for_display(params: dict[str, Any]) -> dict[str, Any]:
    shown = dict(params)
    for name, to_words in _PARAM_WORDS.items():
        if name in shown:
            shown[f"{name}_label"] = to_words(shown[name])
    return shown


def render(notification: Notification) -> tuple[str, str]:
    """Title and body in the current locale."""
    kind = _KINDS.get(notification.kind)
    if kind is None:
        return notification.kind, ""
    params = _params_for_display(notification.params)
    try:
        return gettext(kind.title) % params, gettext(kind.body) % params
    except (KeyError, TypeError, ValueError):
        logger.warning("notification %s has parameters that do not fit its text", notification.id)
        return gettext(kind.title), ""


def notify(
    session: Session,
    *,
    user_ids: list[int],
    kind: str,
    params: dict[str, Any],
    link: str = "",
    project_id: int | None = None,
) -> list[Notification]:
    """Notify users in the app, and by e-mail (after commit) when SMTP is configured."""
    emailing = bool(get_settings().smtp_host)
    created = []
    for user_id in dict.fromkeys(user_ids):
        notification = Notification(
            user_id=user_id,
            project_id=project_id,
            kind=kind,
            params=params,
            link=link,
            email_status=EmailStatus.PENDING if emailing else EmailStatus.NONE,
        )
        session.add(notification)
        created.append(notification)
    session.flush()
    if emailing:
        for notification in created:
            enqueue_after_commit(session, "notifications.deliver_email", notification.id)
    return created


def unread_count(session: Session, *, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def recent(session: Session, *, user_id: int, limit: int = 50) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(session: Session, *, user_id: int, notification_id: int | None = None) -> int:
    """Mark one (or every) notification of the user as read; returns how many changed."""
    statement = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    return rows_affected(session.execute(statement.values(read_at=utcnow())))


def open_notification(session: Session, *, user_id: int, notification_id: int) -> str:
    """Mark the user's notification read and return where it points ("" if not theirs)."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        return ""
    if notification.read_at is None:
        notification.read_at = utcnow()
    return notification.link


def redeliver_stuck(session: Session, *, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Re-send e-mails whose task was lost or whose worker died mid-send."""
    now = utcnow()
    session.execute(
        update(Notification)
        .where(
            Notification.email_status == EmailStatus.SENDING,
            Notification.email_claimed_at < now - STUCK_AFTER,
        )
        .values(email_status=EmailStatus.PENDING)
    )
    ids = list(
        session.scalars(
            select(Notification.id)
            .where(
                Notification.email_status == EmailStatus.PENDING,
                Notification.created_at < now - older_than,
            )
            .order_by(Notification.id)
            .limit(200)
        )
    )
    for notification_id in ids:
        enqueue_after_commit(session, "notifications.deliver_email", notification_id)
    return len(ids)
