"""The ``[business_hours]`` and ``[sla]`` sections of the config file.

The SLA engine owns its settings; :mod:`cs_console.config` embeds them.

Durations are written the way people write them: ``30m``, ``5h``, ``2d``,
``1w``, or a combination such as ``1h30m``; a bare number is hours. How a
``d`` or a ``w`` turns into time depends on the clock a policy counts in (see
:meth:`Duration.to_timedelta`): on the 24/7 clock a day is 24 hours; on the
business clock a day is one business day of the shop (``2d`` from Monday 10:00
is Wednesday 10:00 in a shop open 09:00-18:00).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cs_console.i18n import _

_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(min|m|h|d|w)", re.IGNORECASE)
_WHOLE = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*(?:min|m|h|d|w)\s*)+$", re.IGNORECASE)
_BARE = re.compile(r"^\s*\d+(?:\.\d+)?\s*$")
#: Ways to say a policy counts every minute (``calendar = "24/7"``).
_ROUND_THE_CLOCK = frozenset({"24/7", "24x7", "calendar", "always"})
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

#: The ticket statuses the clock knows, in their usual order.
STATUSES: tuple[str, ...] = ("new", "open", "pending", "on_hold", "solved", "closed")
#: The targets a policy can set.
TARGETS: tuple[str, ...] = ("first_reply", "next_reply", "resolution")
#: Statuses that stop every clock (they cannot be used as pause statuses).
STOP_STATUSES: frozenset[str] = frozenset({"solved", "closed"})


def parse_span(text: str) -> tuple[time, time]:
    """Parse ``"09:00-18:00"`` into a pair of times.

    An end of ``24:00`` means midnight at the end of the day and is returned as
    :data:`datetime.time.max`; the calendar reads it as the next midnight.
    """
    match = _SPAN.match(text)
    if not match:
        raise ValueError(
            _("{text} is not a span like {example}").format(
                text=repr(text), example="'09:00-18:00'"
            )
        )
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(_("{text} has an impossible time").format(text=repr(text)))
    start = time(h1, m1)
    end = time.max if h2 == 24 else time(h2, m2)
    if end <= start:
        raise ValueError(_("{text} ends before it starts").format(text=repr(text)))
    return start, end


def merge_spans(texts: list[str]) -> list[tuple[time, time]]:
    """Parse spans such as ``"09:00-14:00"``, sorted, overlapping ones merged."""
    merged: list[tuple[time, time]] = []
    for start, end in sorted(parse_span(text) for text in texts):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


@dataclass(frozen=True, slots=True)
class Duration:
    """A target as written: clock minutes plus days and weeks whose length depends on the clock."""

    minutes: float = 0.0
    days: float = 0.0
    weeks: float = 0.0

    def to_timedelta(self, *, day: timedelta, week: timedelta) -> timedelta:
        """The duration on a clock whose day and week last ``day`` and ``week``.

        Minutes and hours are always clock minutes and hours; ``day`` and
        ``week`` are 24 h and 7 d on the 24/7 clock, and one business day and
        one business week on a business calendar.
        """
        total = timedelta(minutes=self.minutes) + self.days * day + self.weeks * week
        return timedelta(seconds=round(total.total_seconds()))


def parse_duration(text: str | int | float) -> Duration:
    """Parse a duration the way people write it: ``30m``, ``5h``, ``2d``, ``1w``, ``1h30m``.

    A bare number is taken as hours.

    Raises:
        ValueError: the text is not a duration or is not longer than zero.
    """
    if isinstance(text, bool):
        raise ValueError(_("{text} is not a duration").format(text=repr(text)))
    if isinstance(text, str):
        return _parse_text(text)
    return _parse(text)


@functools.lru_cache(maxsize=256)
def _parse_text(text: str) -> Duration:
    """:func:`parse_duration` of a text, remembered: a policy's targets are read per evaluation.

    Only results are remembered (a frozen :class:`Duration`); a text that is not a
    duration raises again, in the language of the moment, each time it is parsed.
    """
    return _parse(text)


def _parse(text: str | int | float) -> Duration:
    if isinstance(text, int | float) or _BARE.match(text):
        duration = Duration(minutes=float(text) * 60)
    elif _WHOLE.match(text):
        minutes = days = weeks = 0.0
        for value, unit in _PART.findall(text):
            unit = unit.lower()
            if unit in ("m", "min"):
                minutes += float(value)
            elif unit == "h":
                minutes += float(value) * 60
            elif unit == "d":
                days += float(value)
            else:
                weeks += float(value)
        duration = Duration(minutes=minutes, days=days, weeks=weeks)
    else:
        raise ValueError(
            _("{text} is not a duration like {examples}").format(
                text=repr(text), examples="'30m', '5h', '2d'"
            )
        )
    if duration.minutes <= 0 and duration.days <= 0 and duration.weeks <= 0:
        raise ValueError(_("{text} must be longer than zero").format(text=repr(text)))
    return duration


def parse_duration_minutes(text: str | int | float) -> int:
    """Parse a duration into minutes of the 24/7 clock (a day is 24 h, a week 7 days).

    Business-time targets resolve days through the calendar instead
    (:meth:`cs_console.desk.sla.BusinessCalendar.target_time`).
    """
    minutes = _clock_minutes(parse_duration(text))
    if minutes <= 0:
        raise ValueError(_("{text} must be at least a minute").format(text=repr(text)))
    return minutes


@functools.lru_cache(maxsize=256)  # settings read their durations again for every message
def _clock_minutes(duration: Duration) -> int:
    delta = duration.to_timedelta(day=timedelta(days=1), week=timedelta(weeks=1))
    return round(delta.total_seconds() / 60)


class BusinessHoursSettings(BaseModel):
    """Opening hours per weekday (wall-clock, in the shop's time zone), plus closed days.

    Each weekday holds a list of spans such as ``"09:00-14:00"``; an empty list
    means closed all day. ``24:00`` may end a span.
    """

    model_config = ConfigDict(extra="forbid")

    monday: list[str] = Field(default_factory=lambda: ["09:00-18:00"])
    tuesday: list[str] = Field(default_factory=lambda: ["09:00-18:00"])
    wednesday: list[str] = Field(default_factory=lambda: ["09:00-18:00"])
    thursday: list[str] = Field(default_factory=lambda: ["09:00-18:00"])
    friday: list[str] = Field(default_factory=lambda: ["09:00-18:00"])
    saturday: list[str] = Field(default_factory=list)
    sunday: list[str] = Field(default_factory=list)
    public_holidays: bool = Field(
        default=True,
        description="Close on the public holidays of the shop's country and region.",
    )
    closed_days: list[date] = Field(
        default_factory=list, description="The shop's own closed days (holidays, inventory)."
    )
    special_days: dict[date, list[str]] = Field(
        default_factory=dict,
        description=(
            "Dates with their own opening hours, such as a short Christmas Eve: "
            '`"2026-12-24" = ["09:00-14:00"]`. They replace the weekday\'s hours and win '
            "over public holidays and closed days; an empty list closes the day."
        ),
    )

    @field_validator(*_WEEKDAYS)
    @classmethod
    def _spans_are_valid(cls, spans: list[str]) -> list[str]:
        for span in spans:
            parse_span(span)
        return spans

    @field_validator("special_days")
    @classmethod
    def _special_spans_are_valid(cls, days: dict[date, list[str]]) -> dict[date, list[str]]:
        for day, spans in days.items():
            for span in spans:
                try:
                    parse_span(span)
                except ValueError as exc:
                    raise ValueError(f"{day.isoformat()}: {exc}") from None
        return days

    @model_validator(mode="after")
    def _open_some_day(self) -> BusinessHoursSettings:
        if not any(getattr(self, day) for day in _WEEKDAYS):
            raise ValueError(_("business hours must open on at least one weekday"))
        return self

    def spans(self, weekday: int) -> list[tuple[time, time]]:
        """Opening spans of a weekday (0 = Monday), sorted, overlapping spans merged."""
        return merge_spans(getattr(self, _WEEKDAYS[weekday]))

    def special_spans(self) -> dict[date, list[tuple[time, time]]]:
        """Opening spans of each special day, sorted, overlapping spans merged."""
        return {day: merge_spans(spans) for day, spans in self.special_days.items()}

    def day_length(self, weekday: int) -> timedelta:
        """Wall-clock opening time of a weekday, ignoring holidays and DST."""
        total = timedelta()
        for start, end in self.spans(weekday):
            end_td = timedelta(days=1) if end == time.max else _as_delta(end)
            total += end_td - _as_delta(start)
        return total

    def business_day(self) -> timedelta:
        """How long ``1d`` lasts in business time: the shop's usual opening day.

        The most common opening length among the days the shop opens (ties go
        to the longest): 9 h for Monday-Friday 09:00-18:00, 8 h for split hours
        09:00-14:00 + 16:00-19:00 with a short Saturday.
        """
        lengths = Counter(self.day_length(d) for d in range(7))
        lengths.pop(timedelta(), None)
        return max(lengths.items(), key=lambda item: (item[1], item[0]))[0]

    def business_week(self) -> timedelta:
        """How long ``1w`` lasts in business time: the week's total opening time."""
        return sum((self.day_length(d) for d in range(7)), timedelta())


def _as_delta(value: time) -> timedelta:
    return timedelta(hours=value.hour, minutes=value.minute)


class SlaPolicySettings(BaseModel):
    """One SLA policy: which tickets it matches and its targets.

    A criterion left empty matches anything; a ticket matches when every
    non-empty criterion has the ticket's value (``tag``: any of the ticket's
    tags). Comparisons ignore case.
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    priority: list[str] = Field(
        default_factory=list, description="Match any of these (empty: any)."
    )
    category: list[str] = Field(default_factory=list)
    channel: list[str] = Field(default_factory=list)
    tag: list[str] = Field(default_factory=list)
    first_reply: str | None = None
    next_reply: str | None = None
    resolution: str | None = None
    # "business", or "24/7" (also written "calendar", "24x7", "always") to count every minute.
    calendar: str = Field(default="business", pattern="^(business|24/7)$")
    warning_threshold: float | None = Field(
        default=None, gt=0, lt=1, description="Overrides [sla] warning_threshold for this policy."
    )

    @field_validator("calendar", mode="before")
    @classmethod
    def _calendar_aliases(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in _ROUND_THE_CLOCK:
            return "24/7"
        return value

    @field_validator("first_reply", "next_reply", "resolution", mode="before")
    @classmethod
    def _duration_is_valid(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = f"{value}h"
        if isinstance(value, str):
            parse_duration(value)
        return value

    def target(self, name: str) -> str | None:
        """The duration text of a target (``first_reply``, ``next_reply``, ``resolution``)."""
        if name not in TARGETS:
            raise ValueError(_("unknown SLA target {name}").format(name=repr(name)))
        value: str | None = getattr(self, name)
        return value

    @property
    def is_catch_all(self) -> bool:
        """True when the policy matches every ticket."""
        return not (self.priority or self.category or self.channel or self.tag)


def default_policies() -> list[SlaPolicySettings]:
    """Targets from the domain: urgent 1 h, high 5 h, normal 24 h, low 48 h to first reply.

    Counted in business time, "24 h" and "48 h" are what the trade calls one
    and two (working) days, so they are written ``1d`` and ``2d``: a normal
    ticket that arrives Monday 10:00 is due Tuesday 10:00. Returns and
    warranty cases are resolved within 48 h (``2d``).
    """
    return [
        SlaPolicySettings(
            name="returns and warranty",
            category=["returns", "warranty"],
            first_reply="1d",
            next_reply="1d",
            resolution="2d",
        ),
        SlaPolicySettings(
            name="urgent", priority=["urgent"], first_reply="1h", next_reply="2h", resolution="1d"
        ),
        SlaPolicySettings(
            name="high", priority=["high"], first_reply="5h", next_reply="8h", resolution="2d"
        ),
        SlaPolicySettings(
            name="low", priority=["low"], first_reply="2d", next_reply="2d", resolution="5d"
        ),
        SlaPolicySettings(name="default", first_reply="1d", next_reply="1d", resolution="3d"),
    ]


class PauseSettings(BaseModel):
    """``[sla.pause]``: the statuses that pause each target."""

    model_config = ConfigDict(extra="forbid")

    first_reply: list[str] = Field(default_factory=lambda: ["pending"])
    next_reply: list[str] = Field(default_factory=lambda: ["pending"])
    resolution: list[str] = Field(default_factory=lambda: ["pending", "on_hold"])

    @field_validator("first_reply", "next_reply", "resolution")
    @classmethod
    def _statuses_are_known(cls, values: list[str]) -> list[str]:
        for value in values:
            if value not in STATUSES:
                raise ValueError(
                    _("unknown status {value} (statuses: {statuses})").format(
                        value=repr(value), statuses=", ".join(STATUSES)
                    )
                )
            if value in STOP_STATUSES:
                raise ValueError(
                    _("{value} stops the clock; it cannot pause it").format(value=repr(value))
                )
        return values

    def statuses(self, target: str) -> frozenset[str]:
        """The statuses that pause ``target``."""
        return frozenset(getattr(self, target))


class EscalationRule(BaseModel):
    """``[[sla.escalation]]``: what to do when a target reaches warning or breach.

    A rule fires once per ticket and target; ``name`` identifies it in the
    ticket's event log (by default it is derived from the rule's content).
    """

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    when: Literal["warning", "breached"]
    target: list[str] = Field(default_factory=list, description="Targets (empty: any).")
    policy: list[str] = Field(default_factory=list, description="Policy names (empty: any).")
    set_priority: str | None = None
    add_tag: str | None = None
    assign: str | None = None

    @field_validator("target", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("target")
    @classmethod
    def _targets_are_known(cls, values: list[str]) -> list[str]:
        for value in values:
            if value not in TARGETS:
                raise ValueError(
                    _("unknown target {value} (targets: {targets})").format(
                        value=repr(value), targets=", ".join(TARGETS)
                    )
                )
        return values

    @field_validator("policy", mode="before")
    @classmethod
    def _policy_one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _does_something(self) -> EscalationRule:
        if self.set_priority is None and self.add_tag is None and self.assign is None:
            raise ValueError(
                _("an escalation needs {first}, {second} or {third}").format(
                    first="set_priority", second="add_tag", third="assign"
                )
            )
        return self

    @property
    def key(self) -> str:
        """A stable identifier for the rule."""
        if self.name:
            return self.name
        parts = [
            self.when,
            ",".join(self.target) or "*",
            ",".join(self.policy) or "*",
            f"priority={self.set_priority or ''}",
            f"tag={self.add_tag or ''}",
            f"assign={self.assign or ''}",
        ]
        return ":".join(parts)


class SlaSettings(BaseModel):
    """SLA policies (first match wins) and clock behaviour."""

    model_config = ConfigDict(extra="forbid")

    warning_threshold: float = Field(
        default=0.25, gt=0, lt=1, description="Warn when this share of a target is left."
    )
    reopen: Literal["resume", "restart"] = Field(
        default="resume",
        description="On reopen the resolution clock resumes where it stopped, or restarts.",
    )
    pause: PauseSettings = Field(default_factory=PauseSettings)
    policies: list[SlaPolicySettings] = Field(default_factory=default_policies)
    escalation: list[EscalationRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names_are_unique(self) -> SlaSettings:
        seen: set[str] = set()
        for policy in self.policies:
            if policy.name in seen:
                raise ValueError(
                    _("two SLA policies are named {name}").format(name=repr(policy.name))
                )
            seen.add(policy.name)
        keys = [rule.key for rule in self.escalation]
        if len(keys) != len(set(keys)):
            raise ValueError(_("two escalation rules have the same name; give each a unique name"))
        return self
