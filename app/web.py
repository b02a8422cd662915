"""Server-rendered pages and HTMX fragments.

One URL, three shapes (``render``):
- a plain request gets the full page (``base.html`` around the page's ``content`` block);
- an HTMX navigation (boosted link or form, ``HX-Target: main``) gets ``_partial.html``: the
  ``content`` block, the title, and out-of-band updates of the navigation and toasts;
- an HTMX request aimed at a fragment gets only the named block of the page template.
Every such response carries ``Vary: HX-Request`` so caches keep the shapes apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from app import i18n
from app.config import PROJECT_ROOT

templates = Jinja2Templates(directory=str(PROJECT_ROOT / "templates"))
env = templates.env
env.add_extension("jinja2.ext.i18n")
env.install_gettext_callables(  # type: ignore[attr-defined]
    gettext=i18n.gettext, ngettext=i18n.ngettext, newstyle=True
)
env.globals.update(
    LOCALES=i18n.LOCALES,
    get_locale=i18n.get_locale,
    format_number=i18n.format_number,
    format_percent=i18n.format_percent,
    format_currency=i18n.format_currency,
    format_datetime=i18n.format_datetime,
)
env.filters["number"] = i18n.format_number
env.filters["percent"] = i18n.format_percent
env.filters["datetime"] = i18n.format_datetime
env.filters["tojson_attr"] = lambda value: Markup(json.dumps(value, ensure_ascii=False))

TOAST_LEVELS = ("success", "info", "warning", "error")

# What every page knows beyond this module (the CSRF token, the emulator banner, the unread
# count): domains add providers at start-up (app.wiring), so this module imports no domain.
ContextProvider = Callable[[Request], Mapping[str, Any]]
_context_providers: list[ContextProvider] = []


def add_context_provider(provider: ContextProvider) -> None:
    if provider not in _context_providers:
        _context_providers.append(provider)


def add_globals(**values: Any) -> None:
    """Functions and constants a domain's templates use (registered at start-up)."""
    env.globals.update(values)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def is_navigation(request: Request) -> bool:
    """An HTMX request for a whole page body (boosted link/form, or aimed at #main)."""
    return is_htmx(request) and (
        request.headers.get("hx-target") in (None, "main")
        or request.headers.get("hx-boosted") == "true"
    )


def url(
    request: Request, name: str, /, query: Mapping[str, Any] | None = None, **params: Any
) -> str:
    """The path of a named route, with an optional query string."""
    path = str(request.app.url_path_for(name, **{k: str(v) for k, v in params.items()}))
    if query:
        filtered = {k: v for k, v in query.items() if v not in (None, "")}
        if filtered:
            path += "?" + urlencode(filtered, doseq=True)
    return path


def flash(request: Request, message: str, level: str = "success") -> None:
    """A toast shown by the next page or fragment this browser renders (survives redirects)."""
    toasts = list(request.session.get("flash", []))
    toasts.append({"message": str(message), "level": level if level in TOAST_LEVELS else "info"})
    request.session["flash"] = toasts[-5:]


def _pop_toasts(request: Request) -> list[dict[str, str]]:
    return list(request.session.pop("flash", []))


def base_context(request: Request) -> dict[str, Any]:
    context: dict[str, Any] = {
        "request": request,
        "user": getattr(request.state, "user", None),
        "locale": i18n.get_locale(),
        "url": lambda name, /, query=None, **params: url(request, name, query, **params),
        "breadcrumbs": [],
    }
    for provider in _context_providers:
        context.update(provider(request))
    return context


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` as a full page, an HTMX navigation, or its ``block`` fragment."""
    ctx = base_context(request)
    ctx.update(context or {})
    navigation = is_navigation(request)
    ctx["layout"] = "_partial.html" if navigation else "base.html"
    ctx["toasts"] = _pop_toasts(request)
    page = env.get_template(template)
    if block and is_htmx(request) and not navigation:
        block_context = page.new_context(ctx)
        html = "".join(page.blocks[block](block_context))
        html += env.get_template("components/_toasts.html").render(ctx, oob=True)
    else:
        html = page.render(ctx)
    response = HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
    response.headers["Vary"] = "HX-Request"
    return response


def render_fragment(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """A template that is only ever a fragment (the answer to an HTMX action, not a GET URL)."""
    ctx = base_context(request)
    ctx.update(context or {})
    ctx["toasts"] = _pop_toasts(request)
    html = env.get_template(template).render(ctx)
    html += env.get_template("components/_toasts.html").render(ctx, oob=True)
    return HTMLResponse(html, status_code=status_code)


def redirect(request: Request, location: str) -> Response:
    """After a successful form: HTMX navigates in place (keeping toasts), others get a 303."""
    if is_htmx(request):
        return Response(
            status_code=200,
            headers={"HX-Location": json.dumps({"path": location, "target": "#main"})},
        )
    return RedirectResponse(location, status_code=303)


def full_reload(request: Request, location: str) -> Response:
    """Like ``redirect`` but reloads the whole page (after login, logout or a language change)."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)
