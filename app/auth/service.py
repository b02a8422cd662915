"""Accounts: first-run setup, login with throttling, user administration, API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import ApiToken, LoginThrottle, User
from app.auth.passwords import hash_password, needs_rehash, password_problem, verify_password
from app.config import get_settings
from app.db import utcnow
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import LOCALES, _

TOKEN_PREFIX = "td_"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def any_user_exists(session: Session) -> bool:
    return bool(session.scalar(select(exists().where(User.id.is_not(None)))))


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def _validate_new_user(session: Session, *, email: str, name: str, password: str) -> None:
    problems: dict[str, str] = {}
    if "@" not in email or len(email) > 320 or email.startswith("@") or email.endswith("@"):
        problems["email"] = _("Enter an e-mail address such as name@example.com.")
    elif get_user_by_email(session, email):
        problems["email"] = _("A user with this e-mail address already exists.")
    if not name.strip():
        problems["name"] = _("Enter the person's name.")
    if problem := password_problem(password):
        problems["password"] = problem
    if problems:
        raise ValidationFailed(problems)


def create_user(
    session: Session,
    *,
    actor: User | None,
    email: str,
    name: str,
    password: str,
    is_admin: bool = False,
    locale: str | None = None,
) -> User:
    """Create an account (admins do this; the first admin comes from setup)."""
    email = normalise_email(email)
    _validate_new_user(session, email=email, name=name, password=password)
    user = User(
        email=email,
        name=name.strip(),
        password_hash=hash_password(password),
        is_admin=is_admin,
        locale=locale if locale in LOCALES else None,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor or user,
        action="user.create",
        object_type="user",
        object_id=user.id,
        summary=f"{user.name} <{user.email}>" + (" (admin)" if is_admin else ""),
    )
    return user


def complete_setup(
    session: Session, *, email: str, name: str, password: str, locale: str | None
) -> User:
    """Create the first administrator; refused once any user exists."""
    if any_user_exists(session):
        raise Conflict(_("Setup is already complete. Log in instead."))
    user = create_user(
        session,
        actor=None,
        email=email,
        name=name,
        password=password,
        is_admin=True,
        locale=locale,
    )
    audit.record(
        session, actor=user, action="setup.complete", object_type="user", object_id=user.id
    )
    return user


# --- Login and throttling -------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    error: str | None = None


def _throttle_keys(email: str, client_ip: str) -> list[tuple[str, int]]:
    limit = get_settings().login_max_failures
    # Per account and address, plus a looser per-address limit against password spraying.
    return [(f"acct:{normalise_email(email)}|{client_ip}", limit), (f"ip:{client_ip}", limit * 5)]


def _locked_minutes(session: Session, keys: list[tuple[str, int]]) -> int:
    now = utcnow()
    for key, _limit in keys:
        row = session.get(LoginThrottle, key)
        if row and row.locked_until and row.locked_until > now:
            return max(1, int((row.locked_until - now).total_seconds() // 60) + 1)
    return 0


def _record_failure(session: Session, keys: list[tuple[str, int]]) -> None:
    settings = get_settings()
    now = utcnow()
    window = timedelta(minutes=settings.login_lockout_minutes)
    for key, limit in keys:
        row = session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, window_started_at=now)
            session.add(row)
        if now - row.window_started_at > window:
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= limit:
            row.locked_until = now + window


def authenticate(session: Session, *, email: str, password: str, client_ip: str) -> LoginResult:
    """Check a login; repeated failures lock the account+address pair for a while."""
    keys = _throttle_keys(email, client_ip)
    if minutes := _locked_minutes(session, keys):
        return LoginResult(
            None,
            _("Too many failed attempts. Wait %(minutes)d minutes, then try again.")
            % {"minutes": minutes},
        )
    user = get_user_by_email(session, email)
    if user is None or not verify_password(user.password_hash, password):
        _record_failure(session, keys)
        return LoginResult(None, _("The e-mail address or the password is not correct."))
    if not user.is_active:
        return LoginResult(None, _("This account is deactivated. Ask an administrator."))
    # A successful login clears the account's failures (the per-address count stays).
    if (throttle := session.get(LoginThrottle, keys[0][0])) is not None:
        session.delete(throttle)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record(session, actor=user, action="user.login", object_type="user", object_id=user.id)
    return LoginResult(user)


# --- Administration ------------------------------------------------------------------------------


def list_users(session: Session) -> list[User]:
    return list(
        session.scalars(select(User).order_by(User.is_active.desc(), func.lower(User.name)))
    )


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("This user does not exist."))
    return user


def set_active(session: Session, *, actor: User, user_id: int, active: bool) -> User:
    """Deactivate (ends every session and token use) or reactivate an account."""
    user = get_user(session, user_id)
    if user.id == actor.id and not active:
        raise Conflict(_("You cannot deactivate your own account."))
    if not active and user.is_admin and _active_admin_count(session) <= 1:
        raise Conflict(_("At least one active administrator must remain."))
    if user.is_active == active:
        return user
    user.is_active = active
    user.session_epoch += 1
    audit.record(
        session,
        actor=actor,
        action="user.reactivate" if active else "user.deactivate",
        object_type="user",
        object_id=user.id,
        summary=user.email,
    )
    return user


def _active_admin_count(session: Session) -> int:
    return (
        session.scalar(select(func.count()).select_from(User).where(User.is_admin, User.is_active))
        or 0
    )


def set_admin(session: Session, *, actor: User, user_id: int, is_admin: bool) -> User:
    user = get_user(session, user_id)
    if not is_admin and user.is_admin and _active_admin_count(session) <= 1:
        raise Conflict(_("At least one active administrator must remain."))
    user.is_admin = is_admin
    audit.record(
        session,
        actor=actor,
        action="user.update",
        object_type="user",
        object_id=user.id,
        summary=user.email,
        details={"is_admin": is_admin},
    )
    return user


def reset_password(session: Session, *, actor: User, user_id: int, new_password: str) -> User:
    """Set a new password for someone; their open sessions end."""
    if problem := password_problem(new_password):
        raise ValidationFailed({"password": problem})
    user = get_user(session, user_id)
    user.password_hash = hash_password(new_password)
    user.session_epoch += 1
    audit.record(
        session,
        actor=actor,
        action="user.reset_password",
        object_type="user",
        object_id=user.id,
        summary=user.email,
    )
    return user


def change_own_password(
    session: Session, *, user: User, current_password: str, new_password: str
) -> None:
    if not verify_password(user.password_hash, current_password):
        raise ValidationFailed({"current_password": _("The current password is not correct.")})
    if problem := password_problem(new_password):
        raise ValidationFailed({"new_password": problem})
    user.password_hash = hash_password(new_password)
    user.session_epoch += 1
    audit.record(
        session, actor=user, action="user.change_password", object_type="user", object_id=user.id
    )


def update_profile(session: Session, *, user: User, name: str, locale: str | None) -> None:
    if not name.strip():
        raise ValidationFailed({"name": _("Enter your name.")})
    user.name = name.strip()
    user.locale = locale if locale in LOCALES else None
    audit.record(session, actor=user, action="user.update", object_type="user", object_id=user.id)


def set_locale(session: Session, *, user: User, locale: str) -> None:
    if locale in LOCALES and user.locale != locale:
        user.locale = locale
        audit.record(
            session,
            actor=user,
            action="user.set_locale",
            object_type="user",
            object_id=user.id,
            details={"locale": locale},
        )


# --- API tokens -----------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, *, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token; the plain value is returned once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationFailed(
            {"name": _("Give the token a name, such as the script that uses it.")}
        )
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name[:100], token_hash=_digest(plain), prefix=plain[:10])
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=user,
        action="api_token.create",
        object_type="api_token",
        object_id=token.id,
        summary=token.name,
    )
    return token, plain


def list_api_tokens(session: Session, *, user: User) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def revoke_api_token(session: Session, *, user: User, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_("This token does not exist."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(
            session,
            actor=user,
            action="api_token.revoke",
            object_type="api_token",
            object_id=token.id,
            summary=token.name,
        )
    return token


def user_for_api_token(session: Session, plain: str) -> User | None:
    """The active user owning a valid, unrevoked token."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(plain)))
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    now = utcnow()
    # Touch at most once a minute: every API call should not be a write.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return user
