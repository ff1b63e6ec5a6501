"""Metrics: every figure against a hand-computed expectation, pure and through the store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from cs_console.config import Settings, ShopSettings
from cs_console.desk.metrics import (
    MetricRows,
    Period,
    SurveyRow,
    TicketRow,
    build_report,
    compute_metrics,
    csat_score,
    duration_stats,
    nps_score,
    percentile,
    report_rows,
)
from cs_console.desk.sla import BusinessCalendar, BusinessHoursSettings, SlaSettings
from cs_console.desk.sla.settings import SlaPolicySettings
from cs_console.desk.tickets import (
    add_message,
    add_tag,
    assign,
    create_ticket,
    get_or_create_agent,
    get_or_create_customer,
    set_status,
)
from cs_console.store.engine import session_scope
from cs_console.store.models import Direction, Survey

MADRID = ZoneInfo("Europe/Madrid")
H = timedelta(hours=1)


def mad(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A Madrid wall time in November 2026 (UTC+1), as aware UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=MADRID).astimezone(UTC)


WEEK = Period(mad(23, 0), mad(30, 0))  # Monday 23 to Monday 30 November, Madrid
NOW = mad(30, 10)


@pytest.fixture(scope="module")
def calendar() -> BusinessCalendar:
    # Monday-Friday 09:00-18:00 Madrid; no holiday that week.
    return BusinessCalendar(
        BusinessHoursSettings(), timezone="Europe/Madrid", country="ES", region="MD"
    )


def sample_rows() -> MetricRows:
    t1 = TicketRow(
        id=1,
        created_at=mad(23, 17),
        category="delivery",
        agent="ana",
        first_reply_at=mad(24, 10),
        statuses=((mad(24, 10), "new", "open"), (mad(24, 12), "open", "solved")),
        status="solved",
        tags=("late",),
    )
    t2 = TicketRow(
        id=2,
        created_at=mad(24, 9),
        category="delivery",
        agent="bob",
        first_reply_at=mad(24, 9, 30),
        statuses=(
            (mad(24, 10), "new", "solved"),
            (mad(25, 11), "solved", "open"),
            (mad(25, 12), "open", "solved"),
        ),
        status="solved",
    )
    t3 = TicketRow(id=3, created_at=mad(27, 17, 30), category="payment")
    t4 = TicketRow(
        id=4,
        created_at=mad(18, 10),
        category="delivery",
        statuses=((mad(18, 12), "new", "solved"),),
        status="solved",
        tags=("late",),
    )
    t5 = TicketRow(id=5, created_at=mad(21, 10), category="returns", status="open")
    # Created after the period: in no figure.
    t6 = TicketRow(id=6, created_at=mad(30, 9), category="payment")
    surveys = [
        SurveyRow(1, "csat", mad(24, 13), 5, mad(24, 15), category="delivery", agent="ana"),
        SurveyRow(2, "csat", mad(25, 13), 2, mad(26, 9), category="delivery", agent="bob"),
        SurveyRow(4, "csat", mad(18, 13), None, None, category="delivery"),
        SurveyRow(5, "nps", mad(26, 13), None, None, category="returns"),
    ]
    return MetricRows(tickets=[t1, t2, t3, t4, t5, t6], surveys=surveys)


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([3, 1, 2], 0.5) == 2
    assert percentile([10, 20], 0.9) == pytest.approx(19)
    assert percentile([7], 0.9) == 7
    with pytest.raises(ValueError):
        percentile([], 0.5)


@given(st.lists(st.floats(min_value=0, max_value=1e7), min_size=1, max_size=50))
def test_percentiles_lie_within_the_values_and_grow(values: list[float]) -> None:
    median = percentile(values, 0.5)
    p90 = percentile(values, 0.9)
    assert min(values) <= median <= p90 <= max(values) + 1e-6


def test_nps_and_csat_by_hand() -> None:
    # 2 promoters, 1 passive, 2 detractors of 5: (2 - 2) / 5 = 0.
    assert nps_score([10, 9, 7, 3, 0]).score == 0
    # 2 promoters, 1 passive (8), 1 detractor (6): (2 - 1) / 4 x 100 = 25.
    nps = nps_score([10, 10, 8, 6])
    assert (nps.promoters, nps.passives, nps.detractors, nps.score) == (2, 1, 1, 25.0)
    assert nps_score([]).score is None
    # 4 and 5 are satisfied: 3 of 4 = 75 %.
    csat = csat_score([5, 4, 4, 3])
    assert (csat.responses, csat.satisfied, csat.score) == (4, 3, 75.0)
    assert csat_score([]).score is None


@given(st.lists(st.integers(min_value=0, max_value=10), min_size=1))
def test_nps_is_between_minus_100_and_100(scores: list[int]) -> None:
    result = nps_score(scores)
    assert result.responses == len(scores)
    assert result.score is not None and -100 <= result.score <= 100


def test_volumes_durations_reopens_and_satisfaction(calendar: BusinessCalendar) -> None:
    report = compute_metrics(sample_rows(), period=WEEK, now=NOW, calendar=calendar)
    total = report.total
    assert (total.received, total.solved, total.backlog) == (3, 2, 2)  # backlog: #3 and #5
    # First replies: #1 17 h wall / 2 h business (Mon 17-18, Tue 9-10); #2 30 min / 30 min.
    assert total.first_reply.count == 2
    assert total.first_reply.median == timedelta(hours=8, minutes=45)  # (17 h + 0.5 h) / 2
    assert total.first_reply.p90 == timedelta(hours=15, minutes=21)  # 0.5 h + 0.9 x 16.5 h
    assert total.first_reply_business.median == timedelta(hours=1, minutes=15)
    assert total.first_reply_business.p90 == timedelta(hours=1, minutes=51)  # 0.5 + 0.9 x 1.5
    # Resolution: #1 Mon 17:00 -> Tue 12:00 = 19 h wall, 1 h + 3 h = 4 h business;
    # #2 Tue 09:00 -> its last solution Wed 12:00 = 27 h wall, 9 h + 3 h = 12 h business.
    assert total.resolution.median == timedelta(hours=23)
    assert total.resolution.p90 == timedelta(hours=26, minutes=12)  # 19 + 0.9 x 8
    assert total.resolution_business.median == timedelta(hours=8)
    assert total.resolution_business.p90 == timedelta(hours=11, minutes=12)  # 4 + 0.9 x 8
    # #2 was reopened after its solution: 1 of 2 solved.
    assert total.reopened == 1 and total.reopen_rate == 0.5
    # CSAT answered in the week: 5 and 2 -> 50 %; surveys sent in the week: 3.
    assert (total.csat.responses, total.csat.score) == (2, 50.0)
    assert total.surveys_sent == 3
    assert total.nps.responses == 0 and total.nps.score is None


def test_trends_against_the_previous_week(calendar: BusinessCalendar) -> None:
    report = compute_metrics(sample_rows(), period=WEEK, now=NOW, calendar=calendar)
    categories = {t.name: (t.count, t.previous, t.change) for t in report.categories}
    assert categories == {"delivery": (2, 1, 1), "payment": (1, 0, 1)}
    assert report.categories[0].name == "delivery"
    assert [(t.name, t.count, t.previous) for t in report.tags] == [("late", 1, 1)]


def test_daily_series_in_the_shop_zone(calendar: BusinessCalendar) -> None:
    report = compute_metrics(sample_rows(), period=WEEK, now=NOW, calendar=calendar)
    assert len(report.daily) == 7
    by_day = {d: (r, s) for d, r, s in report.daily}
    assert by_day[date(2026, 11, 23)] == (1, 0)
    assert by_day[date(2026, 11, 24)] == (1, 2)  # #1 solved, #2 solved the first time
    assert by_day[date(2026, 11, 25)] == (0, 1)  # #2 solved again
    assert by_day[date(2026, 11, 27)] == (1, 0)


def test_grouped_by_agent(calendar: BusinessCalendar) -> None:
    report = compute_metrics(sample_rows(), period=WEEK, now=NOW, calendar=calendar, by="agent")
    groups = {g.key: g for g in report.groups}
    assert set(groups) == {"ana", "bob", "(unassigned)"}
    assert (groups["ana"].received, groups["ana"].solved, groups["ana"].reopened) == (1, 1, 0)
    assert groups["ana"].first_reply_business.median == 2 * H
    assert groups["ana"].csat.score == 100.0
    assert (groups["bob"].solved, groups["bob"].reopen_rate) == (1, 1.0)
    assert groups["bob"].csat.score == 0.0
    assert (groups["(unassigned)"].received, groups["(unassigned)"].backlog) == (1, 2)
    rows = list(report_rows(report))
    assert [r["group"] for r in rows] == ["all", "(unassigned)", "ana", "bob"]
    assert rows[0]["first_reply_business_median_s"] == 4500.0


def test_backlog_is_counted_at_now_when_the_period_has_not_ended(
    calendar: BusinessCalendar,
) -> None:
    # On Tuesday 11:00, #1 is still open (solved at 12:00) and #2 is solved.
    report = compute_metrics(sample_rows(), period=WEEK, now=mad(24, 11), calendar=calendar)
    assert report.total.backlog == 2  # #1 and #5
    assert report.total.solved == 1


def test_grouping_must_be_known(calendar: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match="cannot group"):
        compute_metrics(MetricRows(), period=WEEK, now=NOW, calendar=calendar, by="colour")


def test_empty_period_has_no_figures(calendar: BusinessCalendar) -> None:
    report = compute_metrics(MetricRows(), period=WEEK, now=NOW, calendar=calendar)
    assert report.total.received == 0
    assert report.total.first_reply == duration_stats([])
    assert report.total.reopen_rate is None
    assert report.to_dict()["total"]["first_reply"]["median_seconds"] is None


def workspace_settings() -> Settings:
    return Settings(
        shop=ShopSettings(timezone="Europe/Madrid", country="ES", region="MD"),
        sla=SlaSettings(
            policies=[SlaPolicySettings(name="all", first_reply="4h", resolution="1d")]
        ),
    )


def test_report_from_the_store_with_sla_compliance(engine: Engine) -> None:
    """Tickets written by the desk functions; SLA counted by the engine in business time."""
    with session_scope(engine) as session:
        ana = get_or_create_agent(session, "ana", now=mad(1, 9))
        customer = get_or_create_customer(session, "c@example.com", now=mad(1, 9))

        def ticket(created: datetime, category: str = "delivery") -> int:
            t = create_ticket(
                session, customer=customer, subject="x", now=created, category=category
            )
            assert t.id is not None
            return t.id

        from cs_console.desk.tickets import get_ticket

        # A: reply after 2 business hours (met, 4 h), solved after 4 (met, 1 d = 9 h).
        a = get_ticket(session, ticket(mad(23, 17)))
        assign(session, a, ana, now=mad(23, 17))
        add_tag(session, a, "late", now=mad(23, 17))
        add_message(session, a, direction=Direction.OUT.value, now=mad(24, 10))
        set_status(session, a, "open", now=mad(24, 10))
        set_status(session, a, "solved", now=mad(24, 12))
        # B: reply after 6 business hours (missed), solved after 21 (missed), then reopened.
        b = get_ticket(session, ticket(mad(23, 9)))
        add_message(session, b, direction=Direction.OUT.value, now=mad(23, 15))
        set_status(session, b, "solved", now=mad(25, 12))
        set_status(session, b, "open", now=mad(26, 9))
        set_status(session, b, "solved", now=mad(26, 10))
        # C: no reply; at the end of the week 8 business hours passed (Fri 10-18):
        # first reply breached, resolution still running.
        ticket(mad(27, 10), category="payment")
        # D: last week, for the trend.
        ticket(mad(17, 10))
        session.add(
            Survey(
                ticket_id=a.id,
                kind="nps",
                token="t-a",
                sent_at=mad(24, 13),
                score=9,
                answered_at=mad(24, 14),
            )
        )
        session.add(
            Survey(
                ticket_id=b.id,
                kind="nps",
                token="t-b",
                sent_at=mad(26, 11),
                score=4,
                answered_at=mad(26, 12),
            )
        )
    with session_scope(engine) as session:
        report = build_report(session, workspace_settings(), period=WEEK, now=NOW, by="agent")
    total = report.total
    assert (total.received, total.solved, total.backlog) == (3, 2, 2)  # C, and D from last week
    first = total.sla["first_reply"]
    assert (first.met, first.missed, first.breached, first.running) == (1, 1, 1, 0)
    assert first.rate == pytest.approx(1 / 3)
    resolution = total.sla["resolution"]
    assert (resolution.met, resolution.missed, resolution.breached) == (1, 1, 0)
    assert resolution.running == 1
    assert resolution.rate == 0.5
    # B's resolution runs to its last solution: Mon 09:00 -> Thu 10:00 = 3 x 9 h + 1 h.
    assert sorted([total.resolution_business.median, total.resolution_business.p90]) == [
        timedelta(hours=16),  # (4 h + 28 h) / 2
        timedelta(hours=4) + 0.9 * timedelta(hours=24),
    ]
    assert total.reopened == 1
    # NPS: one promoter, one detractor of two: 0.
    assert (total.nps.responses, total.nps.score) == (2, 0.0)
    assert {t.name: (t.count, t.previous) for t in report.categories} == {
        "delivery": (2, 1),
        "payment": (1, 0),
    }
    assert [t.name for t in report.tags] == ["late"]
    groups = {g.key: g for g in report.groups}
    assert groups["ana"].received == 1 and groups["ana"].nps.promoters == 1
    assert groups["(unassigned)"].received == 2


_instants = st.integers(min_value=0, max_value=20 * 24 * 60).map(
    lambda minutes: mad(16, 0) + timedelta(minutes=minutes)
)


@st.composite
def ticket_rows(draw: st.DrawFn) -> list[TicketRow]:
    rows: list[TicketRow] = []
    for i in range(draw(st.integers(min_value=0, max_value=12))):
        created = draw(_instants)
        changes = sorted(draw(st.lists(_instants, max_size=4)))
        statuses = tuple(
            (max(at, created), None, draw(st.sampled_from(["open", "pending", "solved", "closed"])))
            for at in changes
        )
        rows.append(
            TicketRow(
                id=i + 1,
                created_at=created,
                category=draw(st.sampled_from(["delivery", "payment"])),
                agent=draw(st.sampled_from([None, "ana", "bob"])),
                statuses=statuses,
            )
        )
    return rows


@given(ticket_rows(), st.sampled_from(["agent", "category", "channel", "priority"]))
def test_groups_add_up_to_the_total(rows: list[TicketRow], by: str) -> None:
    calendar = BusinessCalendar(BusinessHoursSettings(), timezone="Europe/Madrid")
    report = compute_metrics(
        MetricRows(tickets=rows), period=WEEK, now=NOW, calendar=calendar, by=by
    )
    for name in ("received", "solved", "backlog", "reopened"):
        assert sum(getattr(g, name) for g in report.groups) == getattr(report.total, name)
    assert report.total.reopened <= report.total.solved
    assert sum(r for _d, r, _s in report.daily) == report.total.received
    stats = report.total.resolution_business
    if stats.count:
        assert stats.median is not None and stats.p90 is not None
        assert timedelta(0) <= stats.median <= stats.p90
