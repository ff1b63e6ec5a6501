"""The small vocabularies of the tables (statuses, priorities...), importable without the ORM."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"


OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Direction(StrEnum):
    IN = "in"  # from the customer
    OUT = "out"  # from an agent or the shop's automation
    NOTE = "note"  # internal, never sent


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


DEFAULT_CATEGORIES = (
    "product_question",
    "order_status",
    "payment",
    "delivery",
    "returns",
    "cancellation",
    "warranty",
    "other",
)
