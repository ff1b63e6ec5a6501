"""Open the workspace's database, ready to use: reachable and migrated."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from cs_console.store.engine import check_connection, make_engine
from cs_console.store.migrate import needs_upgrade, upgrade


def open_database(url: str, *, migrate: bool = True) -> Engine:
    """An engine for ``url``, with the schema upgraded unless ``migrate`` is False.

    Raises:
        StoreError: the database cannot be reached or migrated.
    """
    engine = make_engine(url)
    check_connection(engine)
    if migrate and needs_upgrade(engine):
        upgrade(engine)
    return engine
