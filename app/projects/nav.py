"""The project's tab bar, in the order users work. Each domain adds its tabs at start-up
(``app/<domain>/wiring.py``) with a position; this module imports none of them."""

from __future__ import annotations

from dataclasses import dataclass

from app.i18n import N_
from app.projects.permissions import Permission
from app.projects.service import ProjectContext


@dataclass(frozen=True)
class NavItem:
    route: str  # route name; it takes ``project_id``
    label: str  # marked with N_, translated when shown
    permission: Permission
    section: str  # the tab is highlighted on every route whose name starts with this


# Positions leave room between tabs: 10 Overview, 20 Datasets, 30 My examples, 40 Review,
# 50 Versions, 60 Members, 70 Tuning, 80 Evaluations, 90 Settings.
_TABS: dict[int, NavItem] = {}


def add_tab(position: int, item: NavItem) -> None:
    _TABS[position] = item


def tabs_for(ctx: ProjectContext) -> list[NavItem]:
    """The tabs this member may open, in order."""
    return [item for _position, item in sorted(_TABS.items()) if ctx.can(item.permission)]


PROJECT_TABS = {
    10: NavItem("projects:detail", N_("Overview"), Permission.VIEW, "projects:detail"),
    60: NavItem("projects:members", N_("Members"), Permission.VIEW, "projects:member"),
    90: NavItem("projects:settings", N_("Settings"), Permission.MANAGE, "projects:settings"),
}
