"""Start-up wiring: each domain registers what it adds to the others (audit labels, notification
texts, project tabs and overview steps, template helpers, page context), once, here.

The app factory (``create_app``) and the worker (``tunedesk run-worker``) both call :func:`wire`
before doing anything, so the web process and the worker know the same texts whatever modules
they happened to import. No module registers anything when it is imported.

The domains, lowest first: a domain imports only those before it (``tests/test_layers.py``).
"""

from __future__ import annotations

import app.all_models  # noqa: F401  (every table mapped before the first query)
from app.auth import wiring as auth
from app.datasets import wiring as datasets
from app.evaluations import wiring as evaluations
from app.genai import wiring as genai
from app.notifications import wiring as notifications
from app.projects import wiring as projects
from app.review import wiring as review
from app.tuning import wiring as tuning

DOMAINS = (auth, notifications, projects, genai, datasets, review, tuning, evaluations)
_wired: list[bool] = []


def wire() -> None:
    """Register every domain's contributions (idempotent: a second call does nothing)."""
    if _wired:
        return
    for domain in DOMAINS:
        domain.register()
    _wired.append(True)
