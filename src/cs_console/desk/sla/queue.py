"""What the ticket table caches for ordering the queue, and the order itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cs_console.desk.sla.model import TicketSla

#: ``sla_state`` values from the most to the least pressing.
SLA_STATES: tuple[str, ...] = ("breached", "warning", "ok", "paused", "done", "none")


@dataclass(frozen=True, slots=True)
class QueueFields:
    """The SLA columns the ticket table caches.

    Attributes:
        first_reply_due: Due time of the running first-reply target, else ``None``.
        next_reply_due: Due time of the running next-reply target, else ``None``.
        resolution_due: Due time of the running resolution target, else ``None``.
        earliest_due: The earliest of the three (``None`` when nothing runs).
        breached: Whether a target that is not finished has run out of time
            (running or paused).
        sla_state: The most pressing state: ``breached``, ``warning``, ``ok``,
            ``paused`` (only paused targets left), ``done`` (every target
            stopped) or ``none`` (no policy matched).
    """

    first_reply_due: datetime | None
    next_reply_due: datetime | None
    resolution_due: datetime | None
    earliest_due: datetime | None
    breached: bool
    sla_state: str


def queue_fields(sla: TicketSla) -> QueueFields:
    """The values to store in the ticket table for ``sla``."""
    dues: dict[str, datetime | None] = {"first_reply": None, "next_reply": None, "resolution": None}
    breached = False
    rank = len(SLA_STATES) - 1 if not sla.targets else SLA_STATES.index("done")
    for name, target in sla.targets.items():
        if target.stopped_at is not None:
            continue
        if target.state == "breached":
            breached = True
        if target.running:
            dues[name] = target.due_at
        rank = min(rank, SLA_STATES.index(target.state))
    running = [d for d in dues.values() if d is not None]
    return QueueFields(
        first_reply_due=dues["first_reply"],
        next_reply_due=dues["next_reply"],
        resolution_due=dues["resolution"],
        earliest_due=min(running) if running else None,
        breached=breached,
        sla_state=SLA_STATES[rank],
    )


def urgency_key(sla: TicketSla) -> tuple[int, float]:
    """A sort key for the queue: breached first, then soonest due, then the rest.

    Tickets with a running breached target come first (the longest overdue
    first), then tickets with a running target by due time, then tickets
    whose targets are all paused or finished.
    """
    target = sla.most_urgent()
    if target is None or target.due_at is None:
        return (2, 0.0)
    return (0 if target.state == "breached" else 1, target.due_at.timestamp())
