"""Fill msgstr values of a catalog from a Python dict (used when writing a batch of translations).

Usage: python -m scripts.fill_translations <domain> <file.py with T (singular) and P (plural)>
"""

from __future__ import annotations

import runpy
import sys

from babel.messages.pofile import write_po

from app.i18n_catalogs import load_po, po_path


def main(domain: str, source: str) -> int:
    values = runpy.run_path(source)
    singular: dict[str, str] = values.get("T", {})
    plural: dict[str, tuple[str, ...]] = values.get("P", {})
    path = po_path("ja", domain)
    catalog = load_po(path, "ja")
    filled = 0
    for message in catalog:
        key = message.id if isinstance(message.id, str) else message.id[0]
        if isinstance(message.id, str) and key in singular:
            message.string = singular[key]
            filled += 1
        elif not isinstance(message.id, str) and key in plural:
            message.string = plural[key]
            filled += 1
        else:
            continue
        message.flags.discard("fuzzy")
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100)
    print(f"{filled} translations written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
