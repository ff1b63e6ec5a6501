"""A line of the queue, its place in the queue's order, and the queue's views.

Kept apart from :mod:`cs_console.desk.queue` (which needs SQLAlchemy) so the
console can show its first page, read with the standard library's ``sqlite3``,
before the database layer is imported (:mod:`cs_console.tui.first_page`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["QueueKey", "QueueRow", "View", "sortable_key"]


class View(StrEnum):
    """The queue's views."""

    MINE = "mine"
    UNASSIGNED = "unassigned"
    OPEN = "open"
    PENDING = "pending"
    BREACHING = "breaching"
    CATEGORY = "category"


@dataclass(frozen=True, slots=True)
class QueueKey:
    """Where a row sits in the queue order; pages continue after a key."""

    breached: bool
    due: datetime | None
    id: int


def sortable_key(key: QueueKey) -> tuple[Any, ...]:
    """Compares like the SQL order: breached first, then due time (none last), then id."""
    return (
        0 if key.breached else 1,
        1 if key.due is None else 0,
        key.due.timestamp() if key.due else 0.0,
        key.id,
    )


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One line of the queue, everything the list shows."""

    id: int
    subject: str
    customer_name: str
    customer_email: str
    category: str
    priority: str
    status: str
    assignee: str | None
    sla_due_at: datetime | None
    sla_breached: bool
    updated_at: datetime
    unread: bool

    @property
    def key(self) -> QueueKey:
        return QueueKey(self.sla_breached, self.sla_due_at, self.id)
