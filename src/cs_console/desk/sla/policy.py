"""Which SLA policy a ticket falls under: the first one that matches."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from cs_console.desk.sla.calendar import BusinessCalendar, CalendarLookup, CalendarSet
from cs_console.desk.sla.settings import TARGETS, SlaPolicySettings, SlaSettings

_US = timedelta(microseconds=1)


def _folded(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.casefold() for v in values)


def policy_matches(
    policy: SlaPolicySettings,
    *,
    priority: str,
    category: str,
    channel: str,
    tags: Iterable[str] = (),
) -> bool:
    """Whether every non-empty criterion of ``policy`` holds for the ticket (case ignored)."""
    if policy.priority and priority.casefold() not in _folded(policy.priority):
        return False
    if policy.category and category.casefold() not in _folded(policy.category):
        return False
    if policy.channel and channel.casefold() not in _folded(policy.channel):
        return False
    return not (policy.tag and _folded(policy.tag).isdisjoint(_folded(tags)))


def match_policy(
    policies: Sequence[SlaPolicySettings],
    *,
    priority: str,
    category: str,
    channel: str,
    tags: Iterable[str] = (),
) -> SlaPolicySettings | None:
    """The first policy that matches the ticket, or ``None`` when none does."""
    tags = list(tags)
    for policy in policies:
        if policy_matches(policy, priority=priority, category=category, channel=channel, tags=tags):
            return policy
    return None


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A policy ready for the clock: criteria folded, targets in business microseconds."""

    name: str
    calendar: BusinessCalendar
    priority: frozenset[str]
    category: frozenset[str]
    channel: frozenset[str]
    tag: frozenset[str]
    targets_us: dict[str, int]
    warning_threshold: float

    def matches(self, priority: str, category: str, channel: str, tags: frozenset[str]) -> bool:
        """:func:`policy_matches` on precomputed sets (``tags`` already case-folded)."""
        if self.priority and priority.casefold() not in self.priority:
            return False
        if self.category and category.casefold() not in self.category:
            return False
        if self.channel and channel.casefold() not in self.channel:
            return False
        return not (self.tag and self.tag.isdisjoint(tags))


def compile_policies(settings: SlaSettings, calendars: CalendarLookup) -> list[CompiledPolicy]:
    """Resolve each policy's calendar and target durations once."""
    compiled: list[CompiledPolicy] = []
    for policy in settings.policies:
        calendar = (
            calendars.for_policy(policy)
            if isinstance(calendars, CalendarSet)
            else calendars(policy)
        )
        targets_us: dict[str, int] = {}
        for target in TARGETS:
            text = policy.target(target)
            if text is not None:
                targets_us[target] = calendar.target_time(text) // _US
        threshold = policy.warning_threshold
        compiled.append(
            CompiledPolicy(
                name=policy.name,
                calendar=calendar,
                priority=_folded(policy.priority),
                category=_folded(policy.category),
                channel=_folded(policy.channel),
                tag=_folded(policy.tag),
                targets_us=targets_us,
                warning_threshold=settings.warning_threshold if threshold is None else threshold,
            )
        )
    return compiled
