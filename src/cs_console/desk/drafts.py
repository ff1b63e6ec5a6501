"""Drafts: replies and notes saved as they are typed, restored when the ticket reopens.

One draft per (ticket, agent, kind). Saving is an upsert; an empty body
deletes the draft, so a draft is never an empty leftover.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from cs_console.store.models import Draft

__all__ = ["DraftInfo", "discard_draft", "load_draft", "save_draft"]

KINDS = ("reply", "note")


@dataclass(frozen=True, slots=True)
class DraftInfo:
    ticket_id: int
    kind: str
    body: str
    started_at: datetime
    updated_at: datetime
    ticket_version: int


def _find(session: Session, ticket_id: int, agent_id: int | None, kind: str) -> Draft | None:
    agent_cond = (
        col(Draft.agent_id).is_(None) if agent_id is None else col(Draft.agent_id) == agent_id
    )
    return session.exec(
        select(Draft).where(col(Draft.ticket_id) == ticket_id, agent_cond, col(Draft.kind) == kind)
    ).first()


def save_draft(
    session: Session,
    *,
    ticket_id: int,
    agent_id: int | None,
    kind: str,
    body: str,
    now: datetime,
    ticket_version: int,
) -> DraftInfo | None:
    """Save (or, for an empty body, delete) the draft; returns what is stored now."""
    if kind not in KINDS:
        raise ValueError(f"draft kind must be one of {KINDS}")
    draft = _find(session, ticket_id, agent_id, kind)
    if not body.strip():
        if draft is not None:
            session.delete(draft)
        return None
    if draft is None:
        draft = Draft(
            ticket_id=ticket_id,
            agent_id=agent_id,
            kind=kind,
            body=body,
            started_at=now,
            updated_at=now,
            ticket_version=ticket_version,
        )
    else:
        draft.body = body
        draft.updated_at = now
    session.add(draft)
    session.flush()
    return _info(draft)


def load_draft(
    session: Session, *, ticket_id: int, agent_id: int | None, kind: str
) -> DraftInfo | None:
    draft = _find(session, ticket_id, agent_id, kind)
    return _info(draft) if draft is not None else None


def discard_draft(session: Session, *, ticket_id: int, agent_id: int | None, kind: str) -> bool:
    draft = _find(session, ticket_id, agent_id, kind)
    if draft is None:
        return False
    session.delete(draft)
    return True


def _info(draft: Draft) -> DraftInfo:
    return DraftInfo(
        ticket_id=draft.ticket_id,
        kind=draft.kind,
        body=draft.body,
        started_at=draft.started_at,
        updated_at=draft.updated_at,
        ticket_version=draft.ticket_version,
    )
