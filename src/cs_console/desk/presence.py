"""Who is looking at or replying to a ticket, kept fresh by heartbeats that expire.

Each console sends a heartbeat every few seconds for the ticket on screen;
an agent whose console died disappears once ``PRESENCE_TTL`` has passed
without one. Nothing here blocks anyone: it only informs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from cs_console.store.models import Agent, Presence

PRESENCE_TTL = timedelta(seconds=30)
ACTIVITIES = ("viewing", "replying")


@dataclass(frozen=True)
class Present:
    """Another agent on a ticket."""

    agent: str
    activity: str
    since: datetime


def heartbeat(
    session: Session, ticket_id: int, agent_id: int, *, activity: str = "viewing", now: datetime
) -> None:
    """Record that ``agent_id`` is on ``ticket_id`` now (insert or refresh)."""
    if activity not in ACTIVITIES:
        raise ValueError(f"activity must be one of {ACTIVITIES}")
    row = session.get(Presence, (ticket_id, agent_id))
    if row is None:
        session.add(
            Presence(ticket_id=ticket_id, agent_id=agent_id, activity=activity, heartbeat_at=now)
        )
    else:
        row.activity = activity
        row.heartbeat_at = now
        session.add(row)


def leave(session: Session, ticket_id: int, agent_id: int) -> None:
    """The agent left the ticket (closing its screen)."""
    session.execute(
        delete(Presence).where(
            col(Presence.ticket_id) == ticket_id, col(Presence.agent_id) == agent_id
        )
    )


def others_on(
    session: Session, ticket_ids: Sequence[int], *, me: int | None, now: datetime
) -> dict[int, list[Present]]:
    """For each ticket, the other agents on it whose heartbeat is fresh."""
    if not ticket_ids:
        return {}
    fresh_since = now - PRESENCE_TTL
    rows = session.execute(
        sa_select(
            col(Presence.ticket_id),
            col(Presence.agent_id),
            col(Agent.name),
            col(Presence.activity),
            col(Presence.heartbeat_at),
        )
        .join(Agent, col(Agent.id) == col(Presence.agent_id))
        .where(
            col(Presence.ticket_id).in_(list(ticket_ids)), col(Presence.heartbeat_at) >= fresh_since
        )
    )
    result: dict[int, list[Present]] = defaultdict(list)
    for ticket_id, agent_id, name, activity, at in rows:
        if agent_id == me:
            continue
        result[ticket_id].append(Present(agent=name, activity=activity, since=at))
    return dict(result)


def expire(session: Session, *, now: datetime) -> int:
    """Delete stale heartbeats (housekeeping); returns how many."""
    result = session.execute(
        delete(Presence).where(col(Presence.heartbeat_at) < now - PRESENCE_TTL)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
