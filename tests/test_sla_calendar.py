"""Business calendar: opening hours, holidays, closed days, DST, and business-time arithmetic."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_console.desk.sla import BusinessCalendar, BusinessHoursSettings, CalendarSet
from cs_console.desk.sla.settings import SlaPolicySettings
from cs_console.errors import ConfigError

MADRID = ZoneInfo("Europe/Madrid")
ALL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def md(*args: int) -> datetime:
    """A wall-clock time in Madrid."""
    return datetime(*args, tzinfo=MADRID)  # type: ignore[misc]


def office(**overrides: object) -> BusinessHoursSettings:
    return BusinessHoursSettings(**overrides)  # type: ignore[arg-type]


SPAIN = BusinessCalendar(office(), timezone="Europe/Madrid", country="ES")
SPAIN_MADRID = BusinessCalendar(office(), timezone="Europe/Madrid", country="ES", region="MD")
SPAIN_CATALONIA = BusinessCalendar(office(), timezone="Europe/Madrid", country="ES", region="CT")
SPLIT = BusinessCalendar(
    office(
        **{d: ["09:00-14:00", "16:00-19:00"] for d in ALL_DAYS[:5]},
        saturday=["10:00-14:00"],
        closed_days=[date(2026, 8, 10), date(2026, 8, 11)],
    ),
    timezone="Europe/Madrid",
    country="ES",
)
NIGHT_SHIFT = BusinessCalendar(
    office(**{d: ["00:00-06:00"] for d in ALL_DAYS}, public_holidays=False),
    timezone="Europe/Madrid",
)
ROUND_THE_CLOCK = BusinessCalendar(
    office(**{d: ["00:00-24:00"] for d in ALL_DAYS}, public_holidays=False),
    timezone="Europe/Madrid",
)
ALWAYS = BusinessCalendar.always_open()

# (calendar, start, business minutes, expected due in Madrid wall time)
ADD_CASES = [
    # Friday 17:30, 5 h on a 09:00-18:00 shop: 30 min on Friday, 4 h 30 on Monday.
    (
        "friday evening over the weekend",
        SPAIN,
        md(2026, 11, 20, 17, 30),
        300,
        md(2026, 11, 23, 13, 30),
    ),
    ("within the day", SPAIN, md(2026, 11, 24, 10, 0), 120, md(2026, 11, 24, 12, 0)),
    (
        "exactly to closing lands on the close",
        SPAIN,
        md(2026, 11, 24, 9, 0),
        540,
        md(2026, 11, 24, 18, 0),
    ),
    ("one minute past closing", SPAIN, md(2026, 11, 24, 9, 0), 541, md(2026, 11, 25, 9, 1)),
    ("arrives at night", SPAIN, md(2026, 11, 24, 22, 0), 60, md(2026, 11, 25, 10, 0)),
    ("arrives on Saturday", SPAIN, md(2026, 11, 21, 11, 0), 60, md(2026, 11, 23, 10, 0)),
    # 2026-12-08 (Tuesday) is a national holiday.
    ("over a national holiday", SPAIN, md(2026, 12, 7, 17, 0), 120, md(2026, 12, 9, 10, 0)),
    # 2026-12-25 is Christmas (Friday): Thursday 17:30 + 5 h is Monday 28th 13:30.
    (
        "over Christmas and a weekend",
        SPAIN,
        md(2026, 12, 24, 17, 30),
        300,
        md(2026, 12, 28, 13, 30),
    ),
    # Friday 2026-12-04 17:30: Monday 7th is not a holiday nationally, it is in Madrid (MD).
    (
        "friday before the bridge, national",
        SPAIN,
        md(2026, 12, 4, 17, 30),
        300,
        md(2026, 12, 7, 13, 30),
    ),
    (
        "friday before the bridge, Madrid",
        SPAIN_MADRID,
        md(2026, 12, 4, 17, 30),
        300,
        md(2026, 12, 9, 13, 30),
    ),
    # 2026-09-11 (Friday) is the National Day of Catalonia, not a holiday in Madrid.
    ("Diada in Catalonia", SPAIN_CATALONIA, md(2026, 9, 10, 17, 0), 120, md(2026, 9, 14, 10, 0)),
    (
        "Diada is a working day in Madrid",
        SPAIN_MADRID,
        md(2026, 9, 10, 17, 0),
        120,
        md(2026, 9, 11, 10, 0),
    ),
    ("over New Year", SPAIN, md(2026, 12, 31, 17, 0), 120, md(2027, 1, 4, 10, 0)),
    # Split hours 09:00-14:00 + 16:00-19:00, Saturday 10:00-14:00.
    ("split: across lunch", SPLIT, md(2026, 11, 24, 13, 0), 120, md(2026, 11, 24, 17, 0)),
    ("split: arrives at lunch", SPLIT, md(2026, 11, 24, 14, 30), 30, md(2026, 11, 24, 16, 30)),
    ("split: to the morning close", SPLIT, md(2026, 11, 24, 13, 0), 60, md(2026, 11, 24, 14, 0)),
    (
        "split: Friday evening to Saturday",
        SPLIT,
        md(2026, 11, 20, 18, 0),
        120,
        md(2026, 11, 21, 11, 0),
    ),
    ("split: Saturday to Monday", SPLIT, md(2026, 11, 21, 13, 0), 120, md(2026, 11, 23, 10, 0)),
    # The shop's own closed days: Monday 10 and Tuesday 11 August 2026.
    ("split: over closed days", SPLIT, md(2026, 8, 8, 13, 0), 120, md(2026, 8, 12, 10, 0)),
    # DST: on the spring-forward night (2026-03-29) 00:00-06:00 lasts 5 h, on fall-back 7 h.
    ("night shift, spring forward", NIGHT_SHIFT, md(2026, 3, 29, 0, 0), 300, md(2026, 3, 29, 6, 0)),
    (
        "night shift, spring forward +1",
        NIGHT_SHIFT,
        md(2026, 3, 29, 0, 0),
        301,
        md(2026, 3, 30, 0, 1),
    ),
    ("night shift, fall back", NIGHT_SHIFT, md(2026, 10, 25, 0, 0), 420, md(2026, 10, 25, 6, 0)),
    (
        "night shift, ordinary night",
        NIGHT_SHIFT,
        md(2026, 10, 24, 0, 0),
        360,
        md(2026, 10, 24, 6, 0),
    ),
    # Open around the clock in Madrid: 24 business hours over the DST nights.
    (
        "round the clock, spring forward",
        ROUND_THE_CLOCK,
        md(2026, 3, 28, 12, 0),
        1440,
        md(2026, 3, 29, 13, 0),
    ),
    (
        "round the clock, fall back",
        ROUND_THE_CLOCK,
        md(2026, 10, 24, 12, 0),
        1440,
        md(2026, 10, 25, 11, 0),
    ),
    # The office shop is closed on Sundays: DST changes nothing in wall-clock terms.
    (
        "office over the spring-forward weekend",
        SPAIN,
        md(2026, 3, 27, 17, 30),
        300,
        md(2026, 3, 30, 13, 30),
    ),
    (
        "office over the fall-back weekend",
        SPAIN,
        md(2026, 10, 23, 17, 30),
        300,
        md(2026, 10, 26, 13, 30),
    ),
    ("24/7", ALWAYS, md(2026, 11, 20, 17, 30), 300, md(2026, 11, 20, 22, 30)),
    (
        "24/7 over the fall-back night",
        ALWAYS,
        md(2026, 10, 24, 12, 0),
        1440,
        md(2026, 10, 25, 11, 0),
    ),
]


@pytest.mark.parametrize(
    ("calendar", "start", "minutes", "due"),
    [case[1:] for case in ADD_CASES],
    ids=[case[0] for case in ADD_CASES],
)
def test_add_business_minutes(
    calendar: BusinessCalendar, start: datetime, minutes: int, due: datetime
) -> None:
    result = calendar.add_business_minutes(start, minutes)
    assert result == due
    assert result.tzinfo is UTC
    assert calendar.business_minutes_between(start, result) == minutes


# (calendar, start, end, business minutes)
BETWEEN_CASES = [
    ("same day", SPAIN, md(2026, 11, 24, 10, 0), md(2026, 11, 24, 12, 30), 150),
    ("over a weekend", SPAIN, md(2026, 11, 20, 17, 0), md(2026, 11, 23, 10, 0), 120),
    ("whole closed weekend", SPAIN, md(2026, 11, 21, 0, 0), md(2026, 11, 23, 0, 0), 0),
    ("a week", SPAIN, md(2026, 11, 23, 0, 0), md(2026, 11, 30, 0, 0), 45 * 60),
    ("a week with a holiday", SPAIN, md(2026, 12, 7, 0, 0), md(2026, 12, 14, 0, 0), 36 * 60),
    ("reversed is negative", SPAIN, md(2026, 11, 24, 12, 30), md(2026, 11, 24, 10, 0), -150),
    ("split day", SPLIT, md(2026, 11, 24, 0, 0), md(2026, 11, 25, 0, 0), 8 * 60),
    ("night shift spring night", NIGHT_SHIFT, md(2026, 3, 29, 0, 0), md(2026, 3, 30, 0, 0), 300),
    ("night shift fall night", NIGHT_SHIFT, md(2026, 10, 25, 0, 0), md(2026, 10, 26, 0, 0), 420),
    ("24/7 over the spring night", ALWAYS, md(2026, 3, 29, 0, 0), md(2026, 3, 30, 0, 0), 23 * 60),
    ("seconds are floored", SPAIN, md(2026, 11, 24, 10, 0), md(2026, 11, 24, 10, 0, 59), 0),
]


@pytest.mark.parametrize(
    ("calendar", "start", "end", "minutes"),
    [case[1:] for case in BETWEEN_CASES],
    ids=[case[0] for case in BETWEEN_CASES],
)
def test_business_minutes_between(
    calendar: BusinessCalendar, start: datetime, end: datetime, minutes: int
) -> None:
    assert calendar.business_minutes_between(start, end) == minutes


@pytest.mark.parametrize(
    ("calendar", "at", "is_open", "next_open"),
    [
        (SPAIN, md(2026, 11, 24, 9, 0), True, md(2026, 11, 24, 9, 0)),
        (SPAIN, md(2026, 11, 24, 18, 0), False, md(2026, 11, 25, 9, 0)),
        (SPAIN, md(2026, 11, 24, 8, 59), False, md(2026, 11, 24, 9, 0)),
        (SPAIN, md(2026, 11, 21, 12, 0), False, md(2026, 11, 23, 9, 0)),
        (SPAIN, md(2026, 12, 8, 12, 0), False, md(2026, 12, 9, 9, 0)),
        (SPAIN_MADRID, md(2026, 12, 5, 12, 0), False, md(2026, 12, 9, 9, 0)),
        (SPLIT, md(2026, 11, 24, 15, 0), False, md(2026, 11, 24, 16, 0)),
        (SPLIT, md(2026, 8, 9, 12, 0), False, md(2026, 8, 12, 9, 0)),
        (SPLIT, md(2026, 11, 21, 13, 59), True, md(2026, 11, 21, 13, 59)),
        (ALWAYS, md(2026, 12, 25, 3, 0), True, md(2026, 12, 25, 3, 0)),
    ],
)
def test_is_open_and_next_open(
    calendar: BusinessCalendar, at: datetime, is_open: bool, next_open: datetime
) -> None:
    assert calendar.is_open(at) is is_open
    assert calendar.next_open(at) == next_open


def test_dst_span_lengths_follow_the_wall_clock() -> None:
    def hours(day: date) -> float:
        return sum((e - s).total_seconds() for s, e in NIGHT_SHIFT.open_spans(day)) / 3600

    assert hours(date(2026, 3, 28)) == 6
    assert hours(date(2026, 3, 29)) == 5
    assert hours(date(2026, 10, 25)) == 7


def test_span_boundary_inside_the_dst_gap_moves_to_the_jump() -> None:
    calendar = BusinessCalendar(
        office(sunday=["02:30-05:00"], public_holidays=False), timezone="Europe/Madrid"
    )
    [(start, end)] = calendar.open_spans(date(2026, 3, 29))
    # 02:30 does not exist that night: the clocks jump from 02:00 CET to 03:00 CEST (01:00 UTC).
    assert start == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert end == md(2026, 3, 29, 5, 0)
    [(start, end)] = calendar.open_spans(date(2026, 10, 25))
    # 02:30 happens twice that night: the shop opens at the first.
    assert start == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert end - start == timedelta(hours=3, minutes=30)


def test_span_ending_in_the_repeated_hour_closes_at_the_last_occurrence() -> None:
    calendar = BusinessCalendar(
        office(sunday=["00:00-02:30"], public_holidays=False), timezone="Europe/Madrid"
    )
    [(start, end)] = calendar.open_spans(date(2026, 10, 25))
    assert end == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert end - start == timedelta(hours=3, minutes=30)


def test_holidays_can_be_turned_off() -> None:
    calendar = BusinessCalendar(
        office(public_holidays=False), timezone="Europe/Madrid", country="ES"
    )
    assert calendar.is_open(md(2026, 12, 8, 10, 0))
    assert not calendar.is_holiday(date(2026, 12, 8))
    assert SPAIN.is_holiday(date(2026, 12, 8))
    assert SPAIN.is_holiday(date(2026, 12, 25))
    assert not SPAIN.is_holiday(date(2026, 12, 7))
    assert SPAIN_MADRID.is_holiday(date(2026, 12, 7))


def test_earlier_years_are_added_on_demand() -> None:
    calendar = BusinessCalendar(office(), timezone="Europe/Madrid", country="ES")
    later = calendar.add_business_minutes(md(2026, 6, 1, 10, 0), 60)
    assert later == md(2026, 6, 1, 11, 0)
    # Now ask about 2024 and 2025: the table grows backwards and stays consistent.
    assert calendar.business_minutes_between(md(2024, 12, 31, 17, 0), md(2025, 1, 2, 10, 0)) == 120
    assert calendar.add_business_minutes(md(2025, 12, 31, 17, 30), 60) == md(2026, 1, 2, 9, 30)
    assert calendar.business_minutes_between(md(2026, 6, 1, 10, 0), later) == 60


def test_open_across_midnight_of_new_year() -> None:
    calendar = ROUND_THE_CLOCK
    start = md(2026, 12, 31, 23, 0)
    assert calendar.add_business_minutes(start, 120) == md(2027, 1, 1, 1, 0)
    assert calendar.business_minutes_between(md(2025, 12, 31, 23, 0), md(2026, 1, 1, 1, 0)) == 120


def test_target_time_reads_days_as_business_days() -> None:
    assert SPAIN.business_day == timedelta(hours=9)
    assert SPAIN.target_time("2d") == timedelta(hours=18)
    assert SPAIN.target_time("1w") == timedelta(hours=45)
    assert SPAIN.target_time("1h30m") == timedelta(minutes=90)
    assert SPLIT.business_day == timedelta(hours=8)
    assert ALWAYS.target_time("2d") == timedelta(hours=48)
    assert ALWAYS.target_time("1w") == timedelta(days=7)


def test_two_business_days_from_monday_is_wednesday_same_time() -> None:
    due = SPAIN.add_business_time(md(2026, 11, 23, 10, 0), SPAIN.target_time("2d"))
    assert due == md(2026, 11, 25, 10, 0)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        SPAIN.is_open(datetime(2026, 11, 24, 10, 0))


def test_negative_business_time_is_refused() -> None:
    with pytest.raises(ValueError):
        SPAIN.add_business_time(md(2026, 11, 24, 10, 0), timedelta(minutes=-1))


def test_zero_business_time_is_the_start() -> None:
    start = md(2026, 11, 21, 12, 0)
    assert SPAIN.add_business_minutes(start, 0) == start


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Europe/Nowhere"}, "time zone"),
        ({"timezone": "Europe/Madrid", "country": "XX"}, "holidays"),
        ({"timezone": "Europe/Madrid", "country": "ES", "region": "ZZ"}, "holidays"),
    ],
)
def test_bad_location_is_a_config_error(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        BusinessCalendar(office(), **kwargs)  # type: ignore[arg-type]


def test_a_calendar_that_never_opens_is_refused() -> None:
    calendar = BusinessCalendar(
        office(**{d: [] for d in ALL_DAYS[1:]}, monday=["09:00-10:00"], public_holidays=False),
        timezone="Europe/Madrid",
    )
    # Close every Monday for years through closed days: adding time must fail, not spin.
    closed = [date(2026, 1, 5) + timedelta(weeks=w) for w in range(52 * 7)]
    never = BusinessCalendar(
        office(
            **{d: [] for d in ALL_DAYS[1:]},
            monday=["09:00-10:00"],
            public_holidays=False,
            closed_days=closed,
        ),
        timezone="Europe/Madrid",
    )
    assert calendar.add_business_minutes(md(2026, 1, 5, 9, 0), 60) == md(2026, 1, 5, 10, 0)
    with pytest.raises(ConfigError, match="no open hours"):
        never.add_business_minutes(md(2026, 1, 5, 9, 0), 60)


def test_calendar_set_picks_the_policy_calendar() -> None:
    calendars = CalendarSet.from_settings(office(), timezone="Europe/Madrid", country="ES")
    business = SlaPolicySettings(name="b", first_reply="1h")
    round_the_clock = SlaPolicySettings(name="c", first_reply="1h", calendar="24/7")
    assert calendars.for_policy(business) is calendars.business
    assert calendars(round_the_clock).is_always_open


def test_one_calendar_serves_several_threads() -> None:
    starts = [md(year, month, 15, 17, 0) for year in range(2020, 2031) for month in (1, 6, 12)]
    reference = BusinessCalendar(office(), timezone="Europe/Madrid", country="ES")
    expected = {s: reference.add_business_minutes(s, 600) for s in starts}
    shared = BusinessCalendar(office(), timezone="Europe/Madrid", country="ES")
    barrier = threading.Barrier(4)

    def work(worker: int) -> dict[datetime, datetime]:
        order = starts[worker::4] + starts[:worker:4] + list(reversed(starts))
        barrier.wait()
        return {s: shared.add_business_minutes(s, 600) for s in order}

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, range(4)))
    assert all(result == expected for result in results)


# ----- properties ---------------------------------------------------------------------------

CALENDARS = st.sampled_from([SPAIN, SPAIN_MADRID, SPLIT, NIGHT_SHIFT, ROUND_THE_CLOCK, ALWAYS])
INSTANTS = st.datetimes(
    min_value=datetime(2025, 6, 1), max_value=datetime(2027, 6, 1), timezones=st.just(UTC)
)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(calendar=CALENDARS, start=INSTANTS, minutes=st.integers(min_value=1, max_value=20_000))
def test_due_lands_on_an_open_instant_or_a_span_end(
    calendar: BusinessCalendar, start: datetime, minutes: int
) -> None:
    due = calendar.add_business_minutes(start, minutes)
    assert due > start
    just_before = due - timedelta(microseconds=1)
    # The last microsecond before the due time is open: due is inside a span or at its end.
    assert calendar.is_open(just_before)


@PROPERTY
@given(calendar=CALENDARS, start=INSTANTS, minutes=st.integers(min_value=0, max_value=20_000))
def test_between_inverts_add(calendar: BusinessCalendar, start: datetime, minutes: int) -> None:
    due = calendar.add_business_minutes(start, minutes)
    assert calendar.business_minutes_between(start, due) == minutes
    assert calendar.business_time_between(start, due) == timedelta(minutes=minutes)


@PROPERTY
@given(calendar=CALENDARS, a=INSTANTS, b=INSTANTS)
def test_add_inverts_between(calendar: BusinessCalendar, a: datetime, b: datetime) -> None:
    start, end = min(a, b), max(a, b)
    spent = calendar.business_time_between(start, end)
    assert timedelta() <= spent <= end - start
    reached = calendar.add_business_time(start, spent)
    assert reached <= end
    # Nothing open lies between the reached instant and the end.
    assert calendar.business_time_between(reached, end) == timedelta()


@PROPERTY
@given(calendar=CALENDARS, a=INSTANTS, b=INSTANTS, c=INSTANTS)
def test_between_is_additive(
    calendar: BusinessCalendar, a: datetime, b: datetime, c: datetime
) -> None:
    between = calendar.business_time_between
    assert between(a, b) + between(b, c) == between(a, c)


@PROPERTY
@given(calendar=CALENDARS, at=INSTANTS)
def test_next_open_is_open_and_nothing_opens_before_it(
    calendar: BusinessCalendar, at: datetime
) -> None:
    opens = calendar.next_open(at)
    assert opens >= at
    assert calendar.is_open(opens)
    assert calendar.business_time_between(at, opens) == timedelta()


SHORT_EVE = BusinessCalendar(
    office(
        special_days={
            date(2026, 12, 24): ["09:00-14:00"],  # a Thursday: mornings only
            date(2026, 12, 8): ["10:00-13:00"],  # a public holiday the shop opens
            date(2026, 12, 9): [],  # a Wednesday it closes
        }
    ),
    timezone="Europe/Madrid",
    country="ES",
)


def test_a_special_day_has_its_own_hours() -> None:
    assert SHORT_EVE.is_open(md(2026, 12, 24, 13, 59))
    assert not SHORT_EVE.is_open(md(2026, 12, 24, 14, 0))
    # 9 business hours from Christmas Eve 09:00: 5 h that day; Christmas is a holiday and
    # the weekend is closed, so the other 4 h end on Monday 28th at 13:00.
    due = SHORT_EVE.add_business_time(md(2026, 12, 24, 9, 0), timedelta(hours=9))
    assert due == md(2026, 12, 28, 13, 0).astimezone(UTC)
    # The usual day still lasts 9 hours: "1d" is the shop's usual day.
    assert SHORT_EVE.target_time("1d") == timedelta(hours=9)


def test_a_special_day_wins_over_a_holiday_and_an_empty_one_closes() -> None:
    assert SPAIN.is_holiday(date(2026, 12, 8))
    assert SHORT_EVE.open_spans(date(2026, 12, 8)) == [
        (md(2026, 12, 8, 10, 0).astimezone(UTC), md(2026, 12, 8, 13, 0).astimezone(UTC))
    ]
    assert SHORT_EVE.open_spans(date(2026, 12, 9)) == []
    assert SHORT_EVE.next_open(md(2026, 12, 9, 12, 0)) == md(2026, 12, 10, 9, 0).astimezone(UTC)


def test_special_days_from_toml_with_a_bad_span_name_the_date() -> None:
    import tomllib

    from pydantic import ValidationError

    data = tomllib.loads('[special_days]\n2026-12-24 = ["09:00-14:00"]\n')
    hours = BusinessHoursSettings.model_validate(data)
    assert hours.special_spans() == {date(2026, 12, 24): [(time(9), time(14))]}
    with pytest.raises(ValidationError, match="2026-12-31"):
        BusinessHoursSettings.model_validate({"special_days": {"2026-12-31": ["14:00-10:00"]}})
