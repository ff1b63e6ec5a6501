"""Business calendars: when the shop is open, and business-time arithmetic.

Opening hours are wall-clock hours in the shop's time zone, so a span
``09:00-18:00`` lasts 9 hours on every day, and a span that crosses a
daylight-saving change lasts what the clock on the wall shows: ``00:00-06:00``
is 5 hours on the spring-forward night and 7 on the fall-back night. A span
boundary at a wall time that happens twice (fall back) opens at the first
occurrence and closes at the last; one at a wall time that does not exist
(spring forward) is moved to the instant the clocks jump.

Internally the calendar keeps a :class:`~cs_console.desk.sla.spans.SpanTable`
of the open spans, as UTC microseconds with a running total of open time, for
the years asked about so far. Business time between two instants is then a
difference of two totals, and adding business time is a binary search: both
cost O(log n), however long the target. The table grows a year at a time under
a lock and is swapped in whole, so one calendar can serve several threads.
Holiday lookups are cached per year.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from cs_console.desk.sla.settings import (
    BusinessHoursSettings,
    Duration,
    SlaPolicySettings,
    parse_duration,
)
from cs_console.desk.sla.spans import Span, SpanTable
from cs_console.errors import ConfigError
from cs_console.i18n import _

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_MINUTE_US = 60_000_000
_DAY = timedelta(days=1)
#: A calendar that finds no open time in this many years in a row is refused.
_EMPTY_YEARS_LIMIT = 5


def to_us(at: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    try:
        return (at - _EPOCH) // _US
    except TypeError:
        raise ValueError(f"{at!r} has no time zone; SLA times must be aware datetimes") from None


def from_us(us: int) -> datetime:
    """The aware UTC datetime of microseconds since the epoch."""
    return _EPOCH + timedelta(microseconds=us)


class BusinessCalendar:
    """The shop's opening hours, public holidays and closed days, in its time zone.

    All methods take aware datetimes (any zone) and return aware UTC datetimes.
    Business time is measured exactly (to the microsecond); the ``*_minutes``
    helpers work in whole minutes.
    """

    def __init__(
        self,
        hours: BusinessHoursSettings,
        *,
        timezone: str,
        country: str | None = None,
        region: str | None = None,
    ) -> None:
        try:
            self._zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(
                _("{zone} is not a known time zone (e.g. 'Europe/Madrid')").format(
                    zone=repr(timezone)
                )
            ) from exc
        self._hours = hours
        self._country = country if hours.public_holidays else None
        self._region = region
        if self._country is not None:
            try:
                holidays.country_holidays(self._country, subdiv=region, years=[])
            except NotImplementedError as exc:
                message = f"no public holidays are known for {country!r}/{region!r}: {exc}"
                raise ConfigError(message) from exc
        self._weekday_spans = [hours.spans(d) for d in range(7)]
        self._closed_days = frozenset(hours.closed_days)
        self._special_spans = hours.special_spans()
        self._holiday_years: dict[int, frozenset[date]] = {}
        self._always_open = False
        self.business_day = hours.business_day()
        self.business_week = hours.business_week()
        self.name = "business"
        # Open spans of the years asked about so far, grown on demand (see SpanTable).
        self._table: SpanTable | None = None
        self._lock = threading.Lock()

    @classmethod
    def always_open(cls) -> BusinessCalendar:
        """A 24/7 calendar: business time is wall time, a day is 24 h."""
        calendar = cls.__new__(cls)
        calendar._always_open = True
        calendar._zone = ZoneInfo("UTC")
        calendar.business_day = _DAY
        calendar.business_week = timedelta(weeks=1)
        calendar.name = "24/7"
        return calendar

    @property
    def is_always_open(self) -> bool:
        """True for the 24/7 calendar."""
        return self._always_open

    @property
    def zone(self) -> ZoneInfo:
        """The shop's time zone."""
        return self._zone

    # ----- public API -------------------------------------------------------------------------

    def target_time(self, duration: str | Duration) -> timedelta:
        """How much business time a target such as ``"5h"`` or ``"2d"`` gives on this calendar."""
        if isinstance(duration, str):
            duration = parse_duration(duration)
        return duration.to_timedelta(day=self.business_day, week=self.business_week)

    def is_open(self, at: datetime) -> bool:
        """Whether the shop is open at ``at`` (spans include their start, not their end)."""
        t = to_us(at)
        if self._always_open:
            return True
        return self._covering(t).open_at(t)[0]

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself when open, else the start of the next opening span (UTC)."""
        t = to_us(at)
        if self._always_open:
            return from_us(t)
        table = self._covering(t)
        while True:
            is_open, next_start = table.open_at(t)
            if is_open:
                return from_us(t)
            if next_start is not None:
                return from_us(next_start)
            table = self._grow_forward(table)

    def add_business_time(self, start: datetime, delta: timedelta) -> datetime:
        """The instant ``delta`` of business time after ``start`` (UTC).

        A result lands on an open instant or on the end of an opening span
        (a 9-hour target from Friday 09:00 is Friday 18:00, not Monday 09:00).
        A zero delta returns ``start``.

        Raises:
            ValueError: ``delta`` is negative.
        """
        if delta < timedelta():
            raise ValueError("business time to add must not be negative")
        t = to_us(start)
        return from_us(self.add_us(t, delta // _US))

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from ``start`` to ``end`` (negative when ``end`` is earlier)."""
        return timedelta(microseconds=self.between_us(to_us(start), to_us(end)))

    def add_business_minutes(self, start: datetime, minutes: int) -> datetime:
        """The instant ``minutes`` business minutes after ``start`` (aware UTC)."""
        return self.add_business_time(start, timedelta(minutes=minutes))

    def business_minutes_between(self, start: datetime, end: datetime) -> int:
        """Whole business minutes from ``start`` to ``end``, rounded toward zero."""
        us = self.between_us(to_us(start), to_us(end))
        return us // _MINUTE_US if us >= 0 else -((-us) // _MINUTE_US)

    def open_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The opening spans of a local date in the shop's zone, as UTC datetimes."""
        if self._always_open:
            start = datetime.combine(day, time(), tzinfo=UTC)
            return [(start, start + _DAY)]
        return [(from_us(s), from_us(e)) for s, e in self._day_spans(day)]

    def is_holiday(self, day: date) -> bool:
        """Whether ``day`` is a public holiday or one of the shop's closed days."""
        if self._always_open:
            return False
        return day in self._closed_days or day in self._holidays(day.year)

    # ----- microsecond core (used by the clock) -----------------------------------------------

    def cumulative_us(self, t: int) -> int:
        """Open time (µs) up to instant ``t`` from a fixed origin: differences are business time."""
        if self._always_open:
            return t
        table = self._table
        if table is None or not table.lo <= t < table.hi:
            table = self._covering(t)
        return table.cumulative(t)

    def instant_us(self, cumulative: int, *, not_before: int) -> int:
        """The earliest instant whose cumulative open time is ``cumulative``, but not before
        ``not_before``: the inverse of :meth:`cumulative_us`."""
        if self._always_open:
            return max(cumulative, not_before)
        table = self._table
        if table is None:
            table = self._covering(not_before)
        while not table.reaches(cumulative):
            table = self._grow_forward(table)
        return table.instant(cumulative, not_before=not_before)

    def add_us(self, t: int, delta: int) -> int:
        """``t`` plus ``delta`` µs of business time (``delta`` >= 0)."""
        if delta <= 0:
            return t
        return self.instant_us(self.cumulative_us(t) + delta, not_before=t)

    def between_us(self, a: int, b: int) -> int:
        """Business time (µs) from ``a`` to ``b``."""
        if self._always_open:
            return b - a
        return self.cumulative_us(b) - self.cumulative_us(a)

    # ----- span table -------------------------------------------------------------------------

    def _holidays(self, year: int) -> frozenset[date]:
        cached = self._holiday_years.get(year)
        if cached is None:
            if self._country is None:
                cached = frozenset()
            else:
                found = holidays.country_holidays(self._country, subdiv=self._region, years=year)
                cached = frozenset(found.keys())
            self._holiday_years[year] = cached
        return cached

    def _wall(self, day: date, at: time, *, edge: str) -> int:
        """The UTC instant of a wall time on a local day (see the module doc for DST)."""
        if at == time.max:
            day, at = day + _DAY, time()
        naive = datetime.combine(day, at)
        first = to_us(naive.replace(tzinfo=self._zone, fold=0))
        second = to_us(naive.replace(tzinfo=self._zone, fold=1))
        if first == second:
            return first
        early, late = min(first, second), max(first, second)
        round_trip = from_us(early).astimezone(self._zone).replace(tzinfo=None)
        if round_trip == naive:  # the wall time happens twice: open early, close late
            return early if edge == "start" else late
        # The wall time does not exist: find the instant the clocks jump, between the two readings.
        lo, hi = early, late
        while hi - lo > 1_000_000:
            mid = (lo + hi) // 2
            if from_us(mid).astimezone(self._zone).replace(tzinfo=None) < naive:
                lo = mid
            else:
                hi = mid
        return hi - hi % 1_000_000

    def _day_spans(self, day: date) -> list[Span]:
        special = self._special_spans.get(day)
        if special is not None:
            wall_spans = special
        elif self.is_holiday(day):
            return []
        else:
            wall_spans = self._weekday_spans[day.weekday()]
        return [
            (self._wall(day, s, edge="start"), self._wall(day, e, edge="end"))
            for s, e in wall_spans
        ]

    def _year_spans(self, year: int) -> list[Span]:
        spans: list[Span] = []
        day = date(year, 1, 1)
        while day.year == year:
            for start, end in self._day_spans(day):
                if end <= start:
                    continue
                if spans and start <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
                else:
                    spans.append((start, end))
            day += _DAY
        return spans

    def _year_start(self, year: int) -> int:
        return to_us(datetime(year, 1, 1, tzinfo=self._zone))

    def _covering(self, t: int) -> SpanTable:
        """A table that covers ``t``, growing the calendar's table as needed."""
        table = self._table
        if table is not None and table.covers(t):
            return table
        with self._lock:
            table = self._table
            if table is None:
                year = from_us(t).astimezone(self._zone).year
                table = SpanTable.first(
                    self._year_spans(year),
                    year=year,
                    lo=self._year_start(year),
                    hi=self._year_start(year + 1),
                )
            while t < table.lo:
                year = table.first_year - 1
                table = table.prepended(self._year_spans(year), lo=self._year_start(year))
            while t >= table.hi:
                year = table.last_year + 1
                table = table.appended(self._year_spans(year), hi=self._year_start(year + 1))
            self._table = table
        return table

    def _grow_forward(self, table: SpanTable) -> SpanTable:
        """A table with more open time after the end of ``table``."""

        def total(t: SpanTable) -> int | None:
            return t.after[-1] if t.after else None

        with self._lock:
            current = self._table or table
            if total(current) != total(table):
                return current  # another thread grew it meanwhile
            for _year in range(_EMPTY_YEARS_LIMIT):
                year = current.last_year + 1
                grown = current.appended(self._year_spans(year), hi=self._year_start(year + 1))
                self._table = grown
                if total(grown) != total(current):
                    return grown
                current = grown
        raise ConfigError(
            _("the business calendar has no open hours for {count} years").format(
                count=_EMPTY_YEARS_LIMIT
            )
        )


class CalendarSet:
    """The calendars the SLA policies count in: the shop's business calendar and 24/7."""

    def __init__(self, business: BusinessCalendar) -> None:
        self.business = business
        self.always_open = BusinessCalendar.always_open()

    @classmethod
    def from_settings(
        cls,
        hours: BusinessHoursSettings,
        *,
        timezone: str,
        country: str | None = None,
        region: str | None = None,
    ) -> CalendarSet:
        """Build the set from the ``[business_hours]`` settings and the shop's location."""
        return cls(BusinessCalendar(hours, timezone=timezone, country=country, region=region))

    def for_policy(self, policy: SlaPolicySettings) -> BusinessCalendar:
        """The calendar ``policy`` counts in."""
        return self.always_open if policy.calendar == "24/7" else self.business

    def __call__(self, policy: SlaPolicySettings) -> BusinessCalendar:
        return self.for_policy(policy)


CalendarLookup = CalendarSet | Callable[[SlaPolicySettings], BusinessCalendar]
