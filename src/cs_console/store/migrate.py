"""Bring a database's schema up to date with Alembic, from code.

``cs-console db upgrade`` calls this, and so does every start: a shop never has
to think about migrations.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from cs_console.errors import StoreError
from cs_console.i18n import _

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Autogenerate leaves the full-text search tables, triggers and indexes (0002) alone."""
    return not (name and "_fts" in name)


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config pointing at the package's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        # Passed as an object, not an option: URLs may hold '%', which ini interpolation rejects.
        config.attributes["engine_url"] = engine.url
    return config


def head_revision() -> str | None:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise StoreError(_("cannot read the schema version: {reason}").format(reason=exc)) from exc


def upgrade(engine: Engine, *, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade the schema; returns (revision before, revision after).

    Raises:
        StoreError: the database cannot be reached or a migration failed.
    """
    before = current_revision(engine)
    config = alembic_config(engine)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except SQLAlchemyError as exc:
        raise StoreError(_("the schema upgrade failed: {reason}").format(reason=exc)) from exc
    return before, current_revision(engine)


def needs_upgrade(engine: Engine) -> bool:
    """Whether the database is behind the code."""
    return current_revision(engine) != head_revision()
