"""The clock, read only at the edges: surfaces pass ``now`` to the domain code."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utcnow"]


def utcnow() -> datetime:
    """The current time, aware UTC (for surfaces; domain code takes ``now``)."""
    return datetime.now(UTC)
