"""SLA compliance figures for reports: met, missed and still running, per target."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from cs_console.desk.sla.model import TicketSla
from cs_console.desk.sla.settings import TARGETS


@dataclass(frozen=True, slots=True)
class TargetCompliance:
    """Counts for one target over many tickets.

    Every cycle counts once: a ticket with three next-reply cycles adds three.

    Attributes:
        target: ``first_reply``, ``next_reply`` or ``resolution``.
        met: Cycles stopped in time.
        missed: Cycles stopped late.
        breached: Cycles still open (running or paused) whose time ran out.
        running: Cycles still open with time left (ok, warning or paused).
    """

    target: str
    met: int = 0
    missed: int = 0
    breached: int = 0
    running: int = 0

    @property
    def total(self) -> int:
        """All counted cycles."""
        return self.met + self.missed + self.breached + self.running

    @property
    def failed(self) -> int:
        """Cycles that ran out of time, finished or not."""
        return self.missed + self.breached

    @property
    def rate(self) -> float | None:
        """Share of decided cycles that were met: met / (met + missed + breached).

        Cycles still running with time left are not decided yet. ``None`` when
        nothing is decided.
        """
        decided = self.met + self.failed
        return self.met / decided if decided else None


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    """Compliance of a set of tickets: how many were counted, and the figures per target."""

    tickets: int
    targets: dict[str, TargetCompliance] = field(default_factory=dict)


def compliance(slas: Iterable[TicketSla]) -> ComplianceReport:
    """Count met, missed, breached and running cycles per target.

    Args:
        slas: Evaluated tickets.
    """
    counts = {t: [0, 0, 0, 0] for t in TARGETS}
    tickets = 0
    for sla in slas:
        tickets += 1
        for name, state in sla.targets.items():
            row = counts[name]
            for met in state.earlier:
                row[0 if met else 1] += 1
            if state.state == "met":
                row[0] += 1
            elif state.state == "missed":
                row[1] += 1
            elif state.state == "breached":
                row[2] += 1
            else:
                row[3] += 1
    return ComplianceReport(
        tickets=tickets,
        targets={t: TargetCompliance(t, *row) for t, row in counts.items()},
    )
