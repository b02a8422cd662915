"""Keep the translation catalogs in step with the code: ``python -m app.i18n_catalogs``.

Extracts every marked string (``_``, ``N_``, ``gettext``, ``ngettext``, ``lazy_gettext`` in
Python; ``_``/``ngettext``/``trans`` in templates), domain by domain, and merges the result into
``app/locale/<lang>/LC_MESSAGES/<domain>.po`` keeping existing translations. Prints what still
needs a translation. ``tests/test_i18n.py`` uses the same functions to fail on any gap.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from app.config import PROJECT_ROOT
from app.i18n import LOCALE_DIR, LOCALES

# Which files belong to which catalog (the longest matching prefix wins); everything else under
# app/ and templates/ is "core".
DOMAIN_PREFIXES: dict[str, tuple[str, ...]] = {
    "datasets": ("app/datasets/", "templates/datasets/"),
    # Versions are frozen from the review queue's output; their text lives with review.
    "review": ("app/review/", "templates/review/", "app/datasets/versions/", "templates/versions/"),
    "tuning": ("app/tuning/", "templates/tuning/", "app/dashboard/", "templates/dashboard/"),
    "evaluations": ("app/evaluations/", "templates/evaluations/"),
    "genai": ("app/genai/", "app/emulator/", "templates/genai/", "templates/emulator/"),
}
KEYWORDS = {"_": None, "N_": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}


def domain_of(relative_path: str) -> str:
    """The catalog of a source file: the domain with the longest matching prefix, else core."""
    matches = [
        (len(prefix), domain)
        for domain, prefixes in DOMAIN_PREFIXES.items()
        for prefix in prefixes
        if relative_path.startswith(prefix)
    ]
    return max(matches)[1] if matches else "core"


def _source_files() -> Iterator[tuple[Path, str]]:
    for path in sorted((PROJECT_ROOT / "app").rglob("*.py")):
        yield path, "python"
    for path in sorted((PROJECT_ROOT / "templates").rglob("*.html")):
        yield path, "jinja2"


def extract() -> dict[str, Catalog]:
    """One template catalog per domain, from the source tree."""
    catalogs: dict[str, Catalog] = {}
    for path, method in _source_files():
        relative = path.relative_to(PROJECT_ROOT).as_posix()
        catalog = catalogs.setdefault(domain_of(relative), Catalog(project="TuneDesk"))
        options = JINJA_OPTIONS if method == "jinja2" else {}
        for lineno, message, _comments, context in extract_from_file(
            method,
            str(path),
            keywords=KEYWORDS,
            options=options,
        ):
            if message:
                catalog.add(message, locations=[(relative, lineno)], context=context)
    return catalogs


def po_path(locale: str, domain: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po"


def load_po(path: Path, locale: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=locale, project="TuneDesk")
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def missing_translations(locale: str = "ja") -> list[tuple[str, str]]:
    """(domain, msgid) for every extracted string without a translation in ``locale``."""
    missing = []
    for domain, template in extract().items():
        catalog = load_po(po_path(locale, domain), locale)
        for message in template:
            if not message.id:
                continue
            translated = catalog.get(message.id, context=message.context)
            strings = translated.string if translated else ""
            values = strings if isinstance(strings, tuple) else (strings,)
            if not translated or not all(values) or translated.fuzzy:
                key = message.id if isinstance(message.id, str) else message.id[0]
                missing.append((domain, key))
    return missing


def update_catalogs() -> None:
    for domain, template in extract().items():
        for locale in LOCALES:
            if locale == "en":
                continue  # the source strings are English
            path = po_path(locale, domain)
            if not len(template) and not path.exists():
                continue  # a domain with no strings yet gets no catalog
            catalog = load_po(path, locale)
            catalog.update(template, no_fuzzy_matching=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as handle:
                write_po(
                    handle,
                    catalog,
                    width=100,
                    omit_header=False,
                    sort_output=False,
                    ignore_obsolete=True,
                )


def main() -> int:
    update_catalogs()
    missing = missing_translations()
    for domain, message in missing:
        print(f"[{domain}] untranslated: {message!r}")
    print(f"{len(missing)} strings need a Japanese translation.")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
