"""A throw-away database for one bench run, so a bench never migrates or fills a database that
someone uses: a SQLite file in the run's folder, or, given a PostgreSQL URL, a fresh database
created on that server next to the one the URL names and dropped afterwards."""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """``--database-url``, the server that ``scratch_database`` creates its database on."""
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL server: the bench creates its own database there and drops it after"
        " (default: SQLite in a temporary folder)",
    )


@contextmanager
def scratch_database(server_url: str | None, folder: Path) -> Iterator[str]:
    """Yields the URL of an empty database (SQLite in ``folder`` when no server is given)."""
    if not server_url:
        yield f"sqlite:///{folder}/bench.sqlite3"
        return
    name = f"tunedesk_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        from app import db

        db.configure(None)  # this process's pooled connections to the scratch database go
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
