"""English and Japanese: gettext catalogs, the request's locale, and locale-aware formatting.

Catalogs live in ``app/locale/<lang>/LC_MESSAGES/<domain>.po``, one file per domain of the app
(core, datasets, review, tuning, evaluations, genai…), merged into one catalog at load. The
container image ships compiled ``.mo`` files; in a checkout the ``.po`` files are compiled in
memory at start-up, so translations are never stale.

The current locale is a context variable set per request (and per task when a task renders text
for a particular user), so ``_()`` works anywhere without passing the request around.
"""

from __future__ import annotations

import gettext as stdlib_gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LOCALES: dict[str, str] = {"en": "English", "ja": "日本語"}
DEFAULT_LOCALE = "en"

_current_locale: ContextVar[str] = ContextVar("locale", default=DEFAULT_LOCALE)


def _load_domain(po_path: Path) -> Translations:
    mo_path = po_path.with_suffix(".mo")
    if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        with mo_path.open("rb") as handle:
            return Translations(handle)
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


@lru_cache
def translations(locale: str) -> stdlib_gettext.NullTranslations:
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    merged: Translations | None = None
    for po_path in sorted(folder.glob("*.po")):
        loaded = _load_domain(po_path)
        if merged is None:
            merged = loaded
        else:
            merged.merge(loaded)
    return merged or stdlib_gettext.NullTranslations()


def get_locale() -> str:
    return _current_locale.get()


def set_locale(locale: str) -> None:
    _current_locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = _current_locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current_locale.reset(token)


def gettext(message: str) -> str:
    return translations(get_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(get_locale()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    """Mark a string for translation where it is defined; translate it where it is shown."""
    return message


def lazy_gettext(message: str) -> LazyProxy:
    return LazyProxy(gettext, message, enable_cache=False)


def negotiate(accept_language: str | None) -> str:
    """The best of our locales for an ``Accept-Language`` header (``ja-JP,ja;q=0.9,en;q=0.8``)."""
    if not accept_language:
        return DEFAULT_LOCALE
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((-quality, position, tag.strip().lower()))
    for _quality, _position, tag in sorted(weighted):
        language = tag.split("-")[0]
        if language in LOCALES:
            return language
    return DEFAULT_LOCALE


def format_number(value: float | int, decimals: int | None = None) -> str:
    if decimals is not None:
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return numbers.format_decimal(value, format=pattern, locale=get_locale())
    return numbers.format_decimal(value, locale=get_locale())


def format_percent(value: float, decimals: int = 0) -> str:
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + "%"
    return numbers.format_percent(value, format=pattern, locale=get_locale())


def format_currency(value: float, currency: str = "USD") -> str:
    return numbers.format_currency(value, currency, locale=get_locale())


def format_datetime(value: datetime | None, style: str = "medium") -> str:
    if value is None:
        return ""
    return dates.format_datetime(value, format=style, locale=get_locale())


def format_timedelta_ago(value: datetime | None, now: datetime) -> str:
    if value is None:
        return ""
    return dates.format_timedelta(value - now, add_direction=True, locale=get_locale())


def locale_display_name(locale: str) -> str:
    return Locale.parse(locale).get_display_name(locale) or locale
