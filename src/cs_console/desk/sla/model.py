"""What the SLA engine reads (a ticket's history) and what it answers (per-target states)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from cs_console.desk.sla.settings import STATUSES

EventKind = Literal["customer_message", "agent_reply", "status"]
TargetName = Literal["first_reply", "next_reply", "resolution"]
TargetStateName = Literal["ok", "warning", "breached", "paused", "met", "missed"]

_KINDS = frozenset({"customer_message", "agent_reply", "status"})


@dataclass(frozen=True, slots=True)
class ClockEvent:
    """One thing that happened to a ticket and moves its clocks.

    Attributes:
        at: When it happened (aware datetime).
        kind: ``customer_message`` (a message from the customer), ``agent_reply``
            (a reply the outbox accepted; internal notes are not replies) or
            ``status`` (the status changed to ``status``).
        status: The new status, for ``status`` events.
    """

    at: datetime
    kind: EventKind
    status: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown clock event kind {self.kind!r}")
        if (self.kind == "status") != (self.status is not None):
            raise ValueError("a status event needs a status, and only status events have one")
        if self.status is not None and self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    @classmethod
    def customer_message(cls, at: datetime) -> ClockEvent:
        """The customer wrote."""
        return cls(at, "customer_message")

    @classmethod
    def agent_reply(cls, at: datetime) -> ClockEvent:
        """An agent's reply was accepted by the outbox."""
        return cls(at, "agent_reply")

    @classmethod
    def status_change(cls, at: datetime, status: str) -> ClockEvent:
        """The ticket's status became ``status``."""
        return cls(at, "status", status)


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """A pure description of a ticket's history: all the SLA engine needs.

    The ticket starts with status ``new`` at ``created_at``; ``events`` are
    its later history in any order (they are sorted by time, ties kept in the
    given order). Priority, category, channel and tags are the ticket's
    current values: they pick the policy, whose targets count from creation.
    """

    created_at: datetime
    priority: str = "normal"
    category: str = ""
    channel: str = "email"
    tags: frozenset[str] = frozenset()
    events: Sequence[ClockEvent] = ()


@dataclass(frozen=True, slots=True)
class TargetState:
    """The state of one target of one ticket at ``now``.

    Attributes:
        target: ``first_reply``, ``next_reply`` or ``resolution``.
        due_at: When the target is (or was) due, UTC. Running: the due time.
            Breached, missed: the instant the time ran out. Met: the due time
            as it stood when the clock stopped. Paused and not breached:
            ``None`` (see ``projected_due_at``).
        business_left: Business time left (negative: overdue by that much
            business time). Constant while paused or stopped.
        wall_left: ``due_at - now`` (``due_at - stopped_at`` once stopped;
            for a paused target, ``projected_due_at - now``).
        state: ``ok``, ``warning``, ``breached``, ``paused``, ``met`` or ``missed``.
        met: ``True``/``False`` once stopped in time/late, ``None`` while running.
        stopped_at: When the clock stopped (reply, solved), ``None`` while it runs.
        paused: Whether the clock is paused by the status.
        target_time: The business time the policy gives.
        elapsed: Business time counted so far.
        started_at: When the current cycle started (creation, or the customer
            message that started the next-reply cycle).
        projected_due_at: For a paused target with time left: the due time if
            the clock resumed at ``now``.
        cycle: 1 for the first cycle; next-reply cycles (and resolution cycles
            with ``reopen = "restart"``) count up.
        earlier: ``met`` of each finished earlier cycle, oldest first.
    """

    target: TargetName
    due_at: datetime | None
    business_left: timedelta
    wall_left: timedelta
    state: TargetStateName
    met: bool | None
    stopped_at: datetime | None
    paused: bool
    target_time: timedelta = timedelta()
    elapsed: timedelta = timedelta()
    started_at: datetime | None = None
    projected_due_at: datetime | None = None
    cycle: int = 1
    earlier: tuple[bool, ...] = ()

    @property
    def running(self) -> bool:
        """The clock runs: not stopped and not paused."""
        return self.stopped_at is None and not self.paused

    @property
    def share_left(self) -> float:
        """Business time left as a share of the target (below 0 when overdue)."""
        if not self.target_time:
            return 0.0
        return self.business_left / self.target_time

    @property
    def breached(self) -> bool:
        """The time ran out (whether the clock still runs, is paused or stopped late)."""
        return self.state in ("breached", "missed")


@dataclass(frozen=True, slots=True)
class TicketSla:
    """The SLA of one ticket at one instant: the matched policy and its targets."""

    policy_name: str | None
    targets: dict[str, TargetState] = field(default_factory=dict)
    calendar: str = "business"
    now: datetime | None = None

    def running(self) -> list[TargetState]:
        """Targets whose clock runs at ``now``."""
        return [t for t in self.targets.values() if t.running]

    def most_urgent(self) -> TargetState | None:
        """The running target to act on first: breached before not breached, then soonest due."""
        best: TargetState | None = None
        best_key: tuple[int, datetime] | None = None
        for target in self.targets.values():
            if not target.running or target.due_at is None:
                continue
            key = (0 if target.state == "breached" else 1, target.due_at)
            if best_key is None or key < best_key:
                best, best_key = target, key
        return best
