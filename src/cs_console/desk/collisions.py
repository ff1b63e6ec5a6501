"""Before a reply leaves: did the customer write again, or another agent reply, meanwhile?

A draft remembers when it began. If messages arrived on the ticket since then
from the customer or from another agent, the agent is shown them and chooses
to send anyway, edit, or discard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from cs_console.store.models import Agent, Direction, Message


@dataclass(frozen=True)
class Change:
    """A message the agent has not seen while writing."""

    message_id: int
    direction: str
    author: str
    at: datetime
    text: str


def changes_since(
    session: Session, ticket_id: int, *, since: datetime, agent_id: int | None
) -> list[Change]:
    """Customer messages and other agents' replies or notes on the ticket after ``since``."""
    rows = session.exec(
        select(Message, Agent.name)
        .join(Agent, col(Agent.id) == col(Message.agent_id), isouter=True)
        .where(col(Message.ticket_id) == ticket_id, col(Message.created_at) > since)
        .order_by(col(Message.created_at), col(Message.id))
    ).all()
    changes: list[Change] = []
    for message, agent_name in rows:
        if message.direction != Direction.IN.value and message.agent_id == agent_id:
            continue  # my own earlier reply or note
        author = (
            message.from_name or message.from_address
            if message.direction == Direction.IN.value
            else agent_name or "another agent"
        )
        assert message.id is not None
        changes.append(
            Change(
                message_id=message.id,
                direction=message.direction,
                author=author,
                at=message.created_at,
                text=message.new_text or message.body_text,
            )
        )
    return changes
