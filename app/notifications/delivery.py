"""E-mailing one notification, at most once: a background flow of two units of work.

The claim (pending → sending) is committed before the slow SMTP call, so another worker that
gets the same message sees it taken; the outcome (sent, or pending again for a retry, or failed
after the last attempt) is the second unit of work. A worker that dies between the two leaves a
"sending" row that ``service.redeliver_stuck`` puts back after ``STUCK_AFTER``.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.auth.models import User
from app.config import get_settings
from app.db import rows_affected, task_session, utcnow
from app.i18n import use_locale
from app.notifications.models import EmailStatus, Notification
from app.notifications.service import MAX_EMAIL_ATTEMPTS, render

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Letter:
    to: str
    subject: str
    body: str


def _claim(session: Session, notification_id: int) -> Letter | None:
    """Take the e-mail (compare-and-set on its status) and write it in the user's language."""
    claimed = session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.email_status == EmailStatus.PENDING)
        .values(
            email_status=EmailStatus.SENDING,
            email_claimed_at=utcnow(),
            email_attempts=Notification.email_attempts + 1,
        )
    )
    if rows_affected(claimed) != 1:
        return None
    notification = session.get(Notification, notification_id)
    user = session.get(User, notification.user_id) if notification else None
    if notification is None or user is None:
        return None
    with use_locale(user.locale or get_settings().default_locale):
        title, body = render(notification)
    link_line = f"\n\n{notification.link}" if notification.link else ""
    return Letter(user.email, title, body + link_line)


def _send_mail(letter: Letter) -> None:
    settings = get_settings()
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = letter.to
    message["Subject"] = letter.subject
    message.set_content(letter.body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls and smtp.has_extn("starttls"):
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def _record(session: Session, notification_id: int, error: Exception | None) -> str:
    notification = session.get(Notification, notification_id)
    if notification is None:
        return "gone"
    if error is None:
        notification.email_status = EmailStatus.SENT
        notification.email_error = ""
        return "sent"
    retry = notification.email_attempts < MAX_EMAIL_ATTEMPTS
    notification.email_status = EmailStatus.PENDING if retry else EmailStatus.FAILED
    notification.email_error = str(error)[:500]
    logger.warning("e-mail for notification %s failed: %s", notification_id, error)
    return "retry" if retry else "failed"


def deliver_email(notification_id: int) -> str:
    """Send one notification by e-mail; returns the outcome for the logs and the retry rule."""
    with task_session() as session:
        letter = _claim(session, notification_id)
    if letter is None:
        return "already_handled"
    failure: Exception | None = None
    try:
        _send_mail(letter)
    except (OSError, smtplib.SMTPException) as error:
        failure = error
    with task_session() as session:
        return _record(session, notification_id, failure)
