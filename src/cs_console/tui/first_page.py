"""The queue's first page, read before the database layer is loaded.

Opening the console on a SQLite workspace shows the most urgent tickets while
SQLAlchemy, the tables and the config validation load in a thread. This module
needs neither: it reads the few config keys that locate the database with
:mod:`tomllib`, checks with :mod:`sqlite3` that the schema is at the code's
revision, and reads the first page in the order of
:func:`cs_console.desk.queue.fetch_page` (breached first, then the soonest SLA
due time, tickets without one last, then the number), as the same per-segment
index range scans merged here.

Whenever anything is unusual (no file, not TOML, PostgreSQL, a schema to
migrate, a query error) :func:`prepare` returns None and the console starts the
ordinary way, which reports problems with its usual messages.
"""

from __future__ import annotations

import heapq
import re
import sqlite3
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cs_console.desk.queue_row import QueueRow, sortable_key
from cs_console.paths import config_path, default_data_dir, default_database_url, resolve_sqlite_url
from cs_console.store.enums import OPEN_STATUSES

__all__ = ["FirstPage", "head_revision", "prepare", "read_page"]

MIGRATIONS = Path(__file__).resolve().parent.parent / "store" / "migrations" / "versions"

_OPEN = tuple(s.value for s in OPEN_STATUSES)
_SEGMENTS = ((True, True), (True, False), (False, True), (False, False))
_COLUMNS = (
    "SELECT ticket.id, ticket.subject, customer.name, customer.email, ticket.category, "
    "ticket.priority, ticket.status, coalesce(agent_1.display_name, agent_1.name), "
    "ticket.sla_due_at, ticket.sla_breached, ticket.updated_at, ticket.unread "
    "FROM ticket JOIN customer ON customer.id = ticket.customer_id "
    "LEFT OUTER JOIN agent AS agent_1 ON agent_1.id = ticket.assignee_id "
    "WHERE ticket.status = ? AND ticket.sla_breached IS ? "
)


@dataclass(frozen=True, slots=True)
class FirstPage:
    """What the console needs to paint before the workspace is loaded."""

    config_file: Path
    database_url: str
    language: str | None
    agent: str
    shop: str
    rows: list[QueueRow]
    more: bool
    #: The read-only connection the page was read on, kept to tell whether anything
    #: was committed since (see :meth:`still_current`).
    db: sqlite3.Connection | None = field(default=None, repr=False, compare=False)
    data_version: int = 0

    def still_current(self) -> bool:
        """Whether nothing was committed to the database since the page was read.

        Closes the connection: asked once, when the workspace is loaded.
        """
        if self.db is None:
            return False
        try:
            (version,) = self.db.execute("PRAGMA data_version").fetchone()
            return bool(version == self.data_version)
        except sqlite3.Error:
            return False
        finally:
            self.db.close()


def _table(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, Mapping):
        raise ValueError(name)
    return value


def _optional_str(table: Mapping[str, Any], key: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(key)
    return value


def database_url(data: Mapping[str, Any], base: Path) -> str:
    """The database URL the validated settings would give (``Settings.database_url``)."""
    url = _optional_str(_table(data, "database"), "url")
    if url:
        return resolve_sqlite_url(url, base)
    data_dir = _optional_str(_table(data, "storage"), "data_dir")
    if data_dir:
        folder = Path(data_dir).expanduser()
        folder = folder if folder.is_absolute() else (base / folder).resolve()
    else:
        folder = default_data_dir()
    return default_database_url(folder)


def _sqlite_file(url: str) -> Path | None:
    """The file of a plain ``sqlite:///PATH`` URL (None for anything else)."""
    if not url.startswith("sqlite:///") or "?" in url:
        return None
    path = url.removeprefix("sqlite:///")
    if not path or path == ":memory:":
        return None
    return Path(path)


# ``revision = "0003"`` or, as newer Alembic templates write, ``revision: str = "0003"``.
_REVISION = re.compile(r"""^revision(?:\s*:[^=\n]+)?\s*=\s*["']([^"']+)["']\s*$""", re.M)
_DOWN_REVISION = re.compile(
    r"""^down_revision(?:\s*:[^=\n]+)?\s*=\s*(?:["']([^"']+)["']|None)\s*$""", re.M
)


def head_revision(folder: Path = MIGRATIONS) -> str | None:
    """The newest migration's revision, read from the migration files' headers."""
    revisions: dict[str, str | None] = {}
    for file in folder.glob("*.py"):
        text = file.read_text(encoding="utf-8")
        revision = _REVISION.search(text)
        down = _DOWN_REVISION.search(text)
        if revision is None or down is None:
            return None  # a header this reader does not understand
        revisions[revision.group(1)] = down.group(1)
    heads = set(revisions) - {d for d in revisions.values() if d}
    return heads.pop() if len(heads) == 1 else None


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(value)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _row(values: tuple[Any, ...]) -> QueueRow:
    (ident, subject, name, email, category, priority, status, assignee, due, breached, updated,
     unread) = values  # fmt: skip
    updated_at = _time(updated)
    if updated_at is None:
        raise ValueError("updated_at")
    return QueueRow(
        ident, subject, name, email, category, priority, status, assignee,
        _time(due), bool(breached), updated_at, bool(unread),
    )  # fmt: skip


def read_page(db: sqlite3.Connection, *, limit: int) -> list[QueueRow]:
    """The first ``limit`` rows of the "all open" view, as ``fetch_page`` orders them."""
    result: list[QueueRow] = []
    for breached, has_due in _SEGMENTS:
        if has_due:
            where = "AND ticket.sla_due_at IS NOT NULL ORDER BY ticket.sla_due_at, ticket.id "
        else:
            where = "AND ticket.sla_due_at IS NULL ORDER BY ticket.id "
        segments = [
            [
                _row(values)
                for values in db.execute(
                    _COLUMNS + where + "LIMIT ?", (status, int(breached), limit - len(result))
                )
            ]
            for status in _OPEN
        ]
        merged = heapq.merge(*segments, key=lambda row: sortable_key(row.key))
        result.extend(row for _, row in zip(range(limit - len(result)), merged, strict=False))
        if len(result) >= limit:
            break
    return result


def prepare(config: Path | str | None = None, *, limit: int) -> FirstPage | None:
    """The first page of the queue, or None when the console should start the ordinary way.

    Args:
        config: The ``--config`` option, if given.
        limit: The page size; one more row is read to know whether there are more.
    """
    try:
        file = config_path(config)
        data = tomllib.loads(file.read_text(encoding="utf-8"))
        url = database_url(data, file.parent)
        path = _sqlite_file(url)
        if path is None or not path.is_file():
            return None
        agent = _table(data, "agent")
        language = _optional_str(agent, "language")
        name = _optional_str(agent, "display_name") or _optional_str(agent, "name") or ""
        shop = _optional_str(_table(data, "shop"), "name") or ""
        head = head_revision()
        if head is None:
            return None
        uri = f"{path.resolve().as_uri()}?mode=ro"
        db = sqlite3.connect(uri, uri=True, timeout=10, check_same_thread=False)
        try:
            # Before the reads: a commit in between then counts as a change (read again).
            (data_version,) = db.execute("PRAGMA data_version").fetchone()
            version = db.execute("SELECT version_num FROM alembic_version").fetchall()
            if version != [(head,)]:
                db.close()
                return None  # migrations to run first: the ordinary path does that
            rows = read_page(db, limit=limit + 1)
        except BaseException:
            db.close()
            raise
    except (OSError, ValueError, UnicodeDecodeError, tomllib.TOMLDecodeError, sqlite3.Error):
        return None
    return FirstPage(
        config_file=file,
        database_url=url,
        language=language,
        agent=name,
        shop=shop,
        rows=rows[:limit],
        more=len(rows) > limit,
        db=db,
        data_version=data_version,
    )
