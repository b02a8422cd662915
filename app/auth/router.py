"""Pages for getting in and out: first-run setup, login, logout, language, own account, tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import service
from app.auth.dependencies import CurrentUser, OptionalUser
from app.auth.models import User
from app.auth.sessions import remember_locale, rotate_csrf_token
from app.db import SessionDep, discard_changes
from app.errors import Conflict, ValidationFailed
from app.i18n import LOCALES, _, get_locale, set_locale
from app.web import flash, full_reload, redirect, render

router = APIRouter()


def _safe_next(next_url: str | None) -> str:
    # Only local paths: an open redirect after login is a phishing tool.
    if next_url and next_url.startswith("/") and not next_url.startswith("//"):
        return next_url
    return "/"


def _start_session(request: Request, user: User) -> None:
    request.session.clear()
    request.session.update({"uid": user.id, "epoch": user.session_epoch})
    remember_locale(request, user.locale)
    rotate_csrf_token(request)  # a token seen before login must not survive it


@router.get("/setup", name="auth:setup")
def setup_form(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    if service.any_user_exists(session):
        return RedirectResponse("/login", status_code=303)
    return render(request, "auth/setup.html", {"form": {}, "errors": {}})


@router.post("/setup", name="auth:setup_submit")
def setup_submit(
    request: Request,
    session: SessionDep,
    user: OptionalUser,
    name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    password_confirm: Annotated[str, Form()] = "",
    locale: Annotated[str, Form()] = "",
) -> Response:
    form = {"name": name, "email": email, "locale": locale}
    try:
        if password != password_confirm:
            raise ValidationFailed({"password_confirm": _("The two passwords are different.")})
        admin = service.complete_setup(
            session, email=email, name=name, password=password, locale=locale or None
        )
    except ValidationFailed as error:
        discard_changes(session)
        return render(
            request, "auth/setup.html", {"form": form, "errors": error.errors}, status_code=422
        )
    except Conflict:
        discard_changes(session)
        return RedirectResponse("/login", status_code=303)
    _start_session(request, admin)
    set_locale(admin.locale or get_locale())
    flash(request, _("Welcome to TuneDesk! Create your first project to begin."))
    return full_reload(request, "/")


@router.get("/login", name="auth:login")
def login_form(
    request: Request, session: SessionDep, user: OptionalUser, next: str | None = None
) -> Response:
    if not service.any_user_exists(session):
        return RedirectResponse("/setup", status_code=303)
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "auth/login.html", {"email": "", "error": None, "next": next or ""})


@router.post("/login", name="auth:login_submit")
def login_submit(
    request: Request,
    session: SessionDep,
    user: OptionalUser,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    client_ip = request.client.host if request.client else "unknown"
    result = service.authenticate(session, email=email, password=password, client_ip=client_ip)
    if result.user is None:
        return render(
            request,
            "auth/login.html",
            {"email": email, "error": result.error, "next": next},
            status_code=422,
        )
    _start_session(request, result.user)
    return full_reload(request, _safe_next(next))


@router.post("/logout", name="auth:logout")
def logout(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    if user is not None:
        from app.auth import audit

        audit.record(
            session, actor=user, action="user.logout", object_type="user", object_id=user.id
        )
    request.session.clear()
    return full_reload(request, "/login")


@router.post("/language", name="auth:language")
def set_language(
    request: Request,
    session: SessionDep,
    user: OptionalUser,
    locale: Annotated[str, Form()] = "en",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Switch language: saved on the account, or in a cookie before login."""
    if locale not in LOCALES:
        locale = "en"
    if user is not None:
        service.set_locale(session, user=user, locale=locale)
    remember_locale(request, locale)
    response = full_reload(request, _safe_next(next))
    response.set_cookie("lang", locale, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response


@router.get("/account", name="auth:account")
def account(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return render(request, "auth/account.html", _account_context(session, user))


def _account_context(session: SessionDep, user: CurrentUser, **extra: object) -> dict[str, object]:
    context: dict[str, object] = {
        "tokens": service.list_api_tokens(session, user=user),
        "profile_errors": {},
        "password_errors": {},
        "token_errors": {},
        "new_token": None,
        "breadcrumbs": [(_("Account"), None)],
    }
    context.update(extra)
    return context


@router.post("/account/profile", name="auth:profile")
def update_profile(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    name: Annotated[str, Form()] = "",
    locale: Annotated[str, Form()] = "",
) -> Response:
    try:
        service.update_profile(session, user=user, name=name, locale=locale or None)
        remember_locale(request, user.locale)
    except ValidationFailed as error:
        discard_changes(session)
        return render(
            request,
            "auth/account.html",
            _account_context(session, user, profile_errors=error.errors),
            status_code=422,
        )
    flash(request, _("Your profile was saved."))
    return full_reload(request, "/account")


@router.post("/account/password", name="auth:password")
def change_password(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
) -> Response:
    try:
        service.change_own_password(
            session, user=user, current_password=current_password, new_password=new_password
        )
    except ValidationFailed as error:
        discard_changes(session)
        return render(
            request,
            "auth/account.html",
            _account_context(session, user, password_errors=error.errors),
            status_code=422,
        )
    # The epoch moved: this browser keeps its session, every other one is logged out.
    _start_session(request, user)
    flash(request, _("Your password was changed. Other browsers were logged out."))
    return redirect(request, "/account")


@router.post("/account/tokens", name="auth:create_token")
def create_token(
    request: Request, session: SessionDep, user: CurrentUser, name: Annotated[str, Form()] = ""
) -> Response:
    try:
        _token, plain = service.create_api_token(session, user=user, name=name)
    except ValidationFailed as error:
        discard_changes(session)
        return render(
            request,
            "auth/account.html",
            _account_context(session, user, token_errors=error.errors),
            status_code=422,
        )
    return render(request, "auth/account.html", _account_context(session, user, new_token=plain))


@router.post("/account/tokens/{token_id}/revoke", name="auth:revoke_token")
def revoke_token(
    request: Request, session: SessionDep, user: CurrentUser, token_id: int
) -> Response:
    token = service.revoke_api_token(session, user=user, token_id=token_id)
    flash(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect(request, "/account")
