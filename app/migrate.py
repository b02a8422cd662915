"""Apply Alembic migrations from code (CLI, `make run`, tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from app.config import PROJECT_ROOT, get_settings


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["url"] = url or get_settings().sqlalchemy_url
    return config


def upgrade_head(url: str | None = None) -> None:
    settings = get_settings()
    if not (url or settings.database_url):
        settings.ensure_var_dir()
    command.upgrade(alembic_config(url), "head")
    _analyze(url or settings.sqlalchemy_url)


def _analyze(url: str) -> None:
    """Planner statistics for a database that never had them (every install before they were
    kept up to date): cheap, and the next query plans by hash lookups as it should."""
    from sqlalchemy import create_engine

    from app.db import refresh_statistics

    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA analysis_limit=1000")
                refresh_statistics(connection)
    finally:
        engine.dispose()
