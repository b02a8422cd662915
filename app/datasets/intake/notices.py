"""Telling the uploader that an import ended (it may take minutes; they may have left the page).
In the app, and by e-mail when SMTP is configured (the notifications domain decides)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.i18n import N_
from app.notifications import service as notifications
from app.notifications.service import Kind

NOTIFICATION_KINDS = {
    "datasets.import_ready": Kind(
        title=N_("%(file)s is imported"),
        body=N_(
            "%(rows)s rows of %(file)s were added to %(dataset)s: %(usable)s usable, "
            "%(with_errors)s with errors to fix."
        ),
    ),
    "datasets.import_failed": Kind(
        title=N_("%(file)s could not be imported"),
        body=N_("Nothing of %(file)s was added to %(dataset)s. The file's page says why."),
    ),
}


def import_ended(
    session: Session,
    *,
    user_id: int | None,
    project_id: int,
    dataset_id: int,
    upload_id: int,
    params: dict[str, object],
    ok: bool,
) -> None:
    if user_id is None:
        return
    base = f"/projects/{project_id}/datasets/{dataset_id}"
    notifications.notify(
        session,
        user_ids=[user_id],
        kind="datasets.import_ready" if ok else "datasets.import_failed",
        params=params,
        link=base if ok else f"{base}/uploads/{upload_id}",
        project_id=project_id,
    )
