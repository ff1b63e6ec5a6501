"""Alembic migrations of the schema (run through :mod:`cs_console.store.migrate`)."""
