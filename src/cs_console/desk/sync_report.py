"""What a sync reports: its progress, and what it did per folder and per account."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["FolderReport", "ProgressFn", "SyncProgress", "SyncReport", "count_outcome"]


@dataclass(frozen=True)
class SyncProgress:
    """Progress of one folder's sync: ``done`` of ``total`` new messages handled.

    A large sync records messages from their headers first (their tickets are
    in the queue then) and reads their bodies after: ``bodies_done`` of
    ``bodies_total`` (the messages recorded so far) tell how far that is.
    """

    account: str
    folder: str
    done: int
    total: int
    bodies_done: int = 0
    bodies_total: int = 0


ProgressFn = Callable[[SyncProgress], None]


@dataclass
class FolderReport:
    """What one folder's sync did."""

    folder: str
    fetched: int = 0
    stored: int = 0
    new_tickets: int = 0
    duplicates: int = 0
    own: int = 0
    quarantined: int = 0
    acknowledged: int = 0
    no_news: bool = False
    uidvalidity_reset: bool = False
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class SyncReport:
    """What one account's sync did; ``ok`` is False when any folder failed."""

    account: str
    folders: list[FolderReport] = field(default_factory=list)
    locked: bool = False  # another run holds the account's lock: nothing done
    lease_holder: str | None = None  # another process syncs this account: nothing done
    error: str | None = None

    @property
    def skipped(self) -> bool:
        """Nothing was done because another run or process syncs this account."""
        return self.locked or self.lease_holder is not None

    @property
    def ok(self) -> bool:
        return self.error is None and all(f.error is None for f in self.folders)

    @property
    def errors(self) -> list[str]:
        found = [self.error] if self.error else []
        found += [f"{f.folder}: {f.error}" for f in self.folders if f.error]
        return found

    def total(self, name: str) -> int:
        return sum(int(getattr(f, name)) for f in self.folders)


def count_outcome(report: FolderReport, outcome: str, acknowledged: bool) -> None:
    """Add one message's outcome (:class:`cs_console.desk.ingest.IngestResult`) to ``report``."""
    if outcome in ("new_ticket", "follow_up", "appended", "reopened", "quarantined"):
        report.stored += 1
    if outcome in ("new_ticket", "follow_up"):
        report.new_tickets += 1
    elif outcome == "duplicate":
        report.duplicates += 1
    elif outcome == "own":
        report.own += 1
    if outcome == "quarantined":
        report.quarantined += 1
        report.new_tickets += 1
    if acknowledged:
        report.acknowledged += 1
