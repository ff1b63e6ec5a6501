"""Storage: the engine, sessions, SQLModel tables and Alembic migrations."""
