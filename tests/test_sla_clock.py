"""Per-ticket SLA clocks: hand-computed cases on real dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cs_console.desk.sla import (
    BusinessCalendar,
    BusinessHoursSettings,
    CalendarSet,
    ClockEvent,
    PauseSettings,
    SlaEngine,
    SlaPolicySettings,
    SlaSettings,
    TargetState,
    TicketFacts,
    TicketSla,
    evaluate,
)

MADRID = ZoneInfo("Europe/Madrid")
H = timedelta(hours=1)
M = timedelta(minutes=1)


def md(*args: int) -> datetime:
    """A wall-clock time in Madrid."""
    return datetime(*args, tzinfo=MADRID)  # type: ignore[misc]


SPAIN = CalendarSet.from_settings(BusinessHoursSettings(), timezone="Europe/Madrid", country="ES")
MADRID_REGION = CalendarSet.from_settings(
    BusinessHoursSettings(), timezone="Europe/Madrid", country="ES", region="MD"
)
SPLIT = CalendarSet.from_settings(
    BusinessHoursSettings(
        **{
            day: ["09:00-14:00", "16:00-19:00"]
            for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
        }
    ),
    timezone="Europe/Madrid",
    country="ES",
)
CHAT = SlaPolicySettings(
    name="chat", channel=["chat"], first_reply="30m", resolution="2d", calendar="24/7"
)
DEFAULTS = SlaSettings()
WITH_CHAT = SlaSettings(policies=[CHAT, *SlaSettings().policies])


def ticket(created: datetime, *events: ClockEvent, **facts: object) -> TicketFacts:
    return TicketFacts(created_at=created, events=events, **facts)  # type: ignore[arg-type]


def reply(at: datetime) -> ClockEvent:
    return ClockEvent.agent_reply(at)


def customer(at: datetime) -> ClockEvent:
    return ClockEvent.customer_message(at)


def status(at: datetime, value: str) -> ClockEvent:
    return ClockEvent.status_change(at, value)


def run(
    facts: TicketFacts,
    now: datetime,
    *,
    settings: SlaSettings = DEFAULTS,
    calendars: CalendarSet = SPAIN,
) -> TicketSla:
    return evaluate(facts, settings=settings, calendars=calendars, now=now)


# ----- first reply ----------------------------------------------------------------------------

FRIDAY_EVENING = ticket(md(2026, 11, 20, 17, 30), priority="high")


@pytest.mark.parametrize(
    ("now", "state", "left"),
    [
        (md(2026, 11, 20, 17, 30), "ok", 5 * H),
        (md(2026, 11, 21, 12, 0), "ok", 4 * H + 30 * M),  # Saturday: the clock stands still
        (md(2026, 11, 23, 10, 0), "ok", 3 * H + 30 * M),
        (md(2026, 11, 23, 12, 14), "ok", 76 * M),
        (md(2026, 11, 23, 12, 15), "warning", 75 * M),  # a quarter of 5 h is left
        (md(2026, 11, 23, 13, 29), "warning", M),
        (md(2026, 11, 23, 13, 30), "breached", timedelta()),
        (md(2026, 11, 23, 14, 0), "breached", -30 * M),
        (md(2026, 11, 24, 9, 30), "breached", -5 * H),
    ],
)
def test_friday_evening_high_ticket_is_due_monday_1330(
    now: datetime, state: str, left: timedelta
) -> None:
    sla = run(FRIDAY_EVENING, now)
    assert sla.policy_name == "high"
    first = sla.targets["first_reply"]
    assert first.due_at == md(2026, 11, 23, 13, 30)
    assert first.state == state
    assert first.business_left == left
    assert first.wall_left == md(2026, 11, 23, 13, 30) - now
    assert first.share_left == left / (5 * H)
    assert first.met is None and first.stopped_at is None and not first.paused


@pytest.mark.parametrize(
    ("replied", "state", "met", "left"),
    [
        (md(2026, 11, 23, 13, 0), "met", True, 30 * M),
        (md(2026, 11, 23, 13, 30), "met", True, timedelta()),
        (md(2026, 11, 23, 14, 0), "missed", False, -30 * M),
    ],
)
def test_first_reply_stops_at_the_first_agent_reply(
    replied: datetime, state: str, met: bool, left: timedelta
) -> None:
    facts = ticket(md(2026, 11, 20, 17, 30), reply(replied), priority="high")
    first = run(facts, md(2026, 11, 25, 12, 0)).targets["first_reply"]
    assert (first.state, first.met, first.business_left) == (state, met, left)
    assert first.stopped_at == replied
    assert first.due_at == md(2026, 11, 23, 13, 30)
    assert first.wall_left == md(2026, 11, 23, 13, 30) - replied


def test_friday_evening_across_the_december_bridge() -> None:
    facts = ticket(md(2026, 12, 4, 17, 30), priority="high")
    now = md(2026, 12, 4, 17, 30)
    national = run(facts, now).targets["first_reply"]
    madrid = run(facts, now, calendars=MADRID_REGION).targets["first_reply"]
    assert national.due_at == md(2026, 12, 7, 13, 30)  # Monday 7th is a working day in Spain
    assert madrid.due_at == md(2026, 12, 9, 13, 30)  # but a holiday in Madrid, as is the 8th


def test_friday_evening_across_christmas() -> None:
    facts = ticket(md(2026, 12, 24, 17, 30), priority="high")
    first = run(facts, md(2026, 12, 26, 12, 0)).targets["first_reply"]
    assert first.due_at == md(2026, 12, 28, 13, 30)
    assert first.business_left == 4 * H + 30 * M


def test_friday_evening_across_the_spring_forward_night() -> None:
    facts = ticket(md(2026, 3, 27, 17, 30), priority="high")
    first = run(facts, md(2026, 3, 27, 17, 30)).targets["first_reply"]
    assert first.due_at == md(2026, 3, 30, 13, 30)
    # Wall time is one hour short of 2 d 20 h: the night of the 29th lasted 23 hours.
    assert first.wall_left == timedelta(days=2, hours=19)
    assert first.business_left == 5 * H


def test_friday_evening_across_the_fall_back_night() -> None:
    facts = ticket(md(2026, 10, 23, 17, 30), priority="high")
    first = run(facts, md(2026, 10, 23, 17, 30)).targets["first_reply"]
    assert first.due_at == md(2026, 10, 26, 13, 30)
    assert first.wall_left == timedelta(days=2, hours=21)


def test_split_hours_shop() -> None:
    facts = ticket(md(2026, 11, 24, 13, 0), priority="high")
    first = run(facts, md(2026, 11, 24, 15, 0), calendars=SPLIT).targets["first_reply"]
    # 13-14 (1 h), 16-19 (3 h), Wednesday 09-10 (1 h).
    assert first.due_at == md(2026, 11, 25, 10, 0)
    assert first.business_left == 4 * H  # lunch does not count


def test_normal_ticket_one_business_day() -> None:
    facts = ticket(md(2026, 11, 23, 10, 0))
    sla = run(facts, md(2026, 11, 23, 10, 0))
    assert sla.policy_name == "default"
    assert sla.targets["first_reply"].due_at == md(2026, 11, 24, 10, 0)
    assert sla.targets["resolution"].due_at == md(2026, 11, 26, 10, 0)
    assert "next_reply" not in sla.targets  # no customer message has started it


def test_returns_are_resolved_within_two_business_days() -> None:
    facts = ticket(md(2026, 11, 20, 12, 0), category="returns", priority="urgent")
    sla = run(facts, md(2026, 11, 20, 12, 0))
    assert sla.policy_name == "returns and warranty"
    # Friday 12:00 + 18 business hours: Friday 6 h, Monday 9 h, Tuesday 3 h.
    assert sla.targets["resolution"].due_at == md(2026, 11, 24, 12, 0)


# ----- 24/7 ---------------------------------------------------------------------------------


def test_round_the_clock_policy_counts_nights_and_weekends() -> None:
    facts = ticket(md(2026, 11, 21, 23, 50), channel="chat")
    sla = run(facts, md(2026, 11, 22, 0, 5), settings=WITH_CHAT)
    assert sla.policy_name == "chat" and sla.calendar == "24/7"
    first = sla.targets["first_reply"]
    assert first.due_at == md(2026, 11, 22, 0, 20)
    assert first.business_left == first.wall_left == 15 * M
    assert first.state == "ok"
    assert sla.targets["resolution"].due_at == md(2026, 11, 23, 23, 50)


def test_round_the_clock_policy_over_the_fall_back_night() -> None:
    # 02:45 CEST, the first of the two 02:45 that night (00:45 UTC).
    created = datetime(2026, 10, 25, 0, 45, tzinfo=UTC)
    facts = ticket(created, channel="chat")
    first = run(facts, created, settings=WITH_CHAT).targets["first_reply"]
    assert first.due_at == datetime(2026, 10, 25, 1, 15, tzinfo=UTC)
    assert first.due_at.astimezone(MADRID).strftime("%H:%M %Z") == "02:15 CET"


# ----- pauses -------------------------------------------------------------------------------


def pending_over_the_weekend() -> TicketFacts:
    return ticket(
        md(2026, 11, 19, 10, 0),  # Thursday
        reply(md(2026, 11, 19, 11, 0)),
        status(md(2026, 11, 19, 11, 0), "pending"),
        customer(md(2026, 11, 23, 10, 0)),  # Monday: the customer answers
    )


def test_pending_pauses_resolution_over_the_weekend() -> None:
    sla = run(pending_over_the_weekend(), md(2026, 11, 21, 12, 0))  # Saturday
    resolution = sla.targets["resolution"]
    assert resolution.state == "paused" and resolution.paused
    assert resolution.due_at is None
    assert resolution.business_left == 26 * H  # 27 h minus Thursday 10-11
    # If it resumed now (Saturday), 26 business hours run Mon 9, Tue 9, Wed 8 -> Wed 17:00.
    assert resolution.projected_due_at == md(2026, 11, 25, 17, 0)
    assert sla.targets["first_reply"].state == "met"


def test_time_left_stays_constant_while_paused() -> None:
    facts = pending_over_the_weekend()
    lefts = {
        run(facts, now).targets["resolution"].business_left
        for now in (md(2026, 11, 19, 12, 0), md(2026, 11, 20, 17, 0), md(2026, 11, 23, 9, 59))
    }
    assert lefts == {26 * H}


def test_customer_answer_resumes_resolution_and_starts_next_reply() -> None:
    sla = run(pending_over_the_weekend(), md(2026, 11, 23, 12, 0))
    resolution = sla.targets["resolution"]
    assert resolution.state == "ok" and not resolution.paused
    # 26 h from Monday 10:00: Mon 8, Tue 9, Wed 9.
    assert resolution.due_at == md(2026, 11, 25, 18, 0)
    assert resolution.business_left == 24 * H
    assert resolution.elapsed == 3 * H
    next_reply = sla.targets["next_reply"]
    assert next_reply.due_at == md(2026, 11, 24, 10, 0)
    assert next_reply.started_at == md(2026, 11, 23, 10, 0)
    assert next_reply.business_left == 7 * H


def test_pending_pauses_first_reply_too() -> None:
    facts = ticket(
        md(2026, 11, 23, 9, 0),
        status(md(2026, 11, 23, 10, 0), "pending"),
        status(md(2026, 11, 24, 9, 0), "open"),
        priority="high",
    )
    first = run(facts, md(2026, 11, 23, 17, 0)).targets["first_reply"]
    assert first.state == "paused" and first.business_left == 4 * H
    first = run(facts, md(2026, 11, 24, 10, 0)).targets["first_reply"]
    assert first.state == "ok" and first.due_at == md(2026, 11, 24, 13, 0)


def test_on_hold_pauses_resolution_only() -> None:
    facts = ticket(md(2026, 11, 23, 9, 0), status(md(2026, 11, 23, 10, 0), "on_hold"))
    sla = run(facts, md(2026, 11, 23, 12, 0))
    assert sla.targets["first_reply"].state == "ok"
    assert sla.targets["first_reply"].business_left == 6 * H
    assert sla.targets["resolution"].state == "paused"
    assert sla.targets["resolution"].business_left == 26 * H


def test_pause_sets_are_configurable() -> None:
    settings = SlaSettings(pause=PauseSettings(first_reply=[], resolution=["pending"]))
    facts = ticket(md(2026, 11, 23, 9, 0), status(md(2026, 11, 23, 10, 0), "pending"))
    sla = run(facts, md(2026, 11, 23, 12, 0), settings=settings)
    assert sla.targets["first_reply"].state == "ok"
    assert sla.targets["resolution"].state == "paused"
    on_hold = ticket(md(2026, 11, 23, 9, 0), status(md(2026, 11, 23, 10, 0), "on_hold"))
    assert (
        run(on_hold, md(2026, 11, 23, 12, 0), settings=settings).targets["resolution"].business_left
        == 24 * H
    )


def test_breach_stays_visible_while_paused() -> None:
    facts = ticket(
        md(2026, 11, 23, 9, 0), status(md(2026, 11, 23, 15, 0), "pending"), priority="high"
    )
    first = run(facts, md(2026, 11, 24, 10, 0)).targets["first_reply"]
    assert first.state == "breached" and first.paused
    assert first.due_at == md(2026, 11, 23, 14, 0)
    assert first.business_left == -H
    assert not first.running


def test_pending_then_reply_in_time_after_a_long_pause() -> None:
    facts = ticket(
        md(2026, 11, 23, 9, 0),
        status(md(2026, 11, 23, 12, 0), "pending"),
        status(md(2026, 11, 30, 9, 0), "open"),
        reply(md(2026, 11, 30, 10, 0)),
        priority="high",
    )
    first = run(facts, md(2026, 11, 30, 11, 0)).targets["first_reply"]
    assert first.state == "met" and first.elapsed == 4 * H


# ----- next reply ---------------------------------------------------------------------------


def conversation() -> TicketFacts:
    return ticket(
        md(2026, 11, 23, 9, 0),
        reply(md(2026, 11, 23, 9, 30)),
        customer(md(2026, 11, 23, 10, 0)),
        customer(md(2026, 11, 23, 11, 0)),  # does not restart the running cycle
        reply(md(2026, 11, 23, 12, 0)),
        customer(md(2026, 11, 24, 9, 0)),
        priority="high",
    )


def test_next_reply_counts_from_the_oldest_unanswered_message() -> None:
    next_reply = run(conversation(), md(2026, 11, 23, 11, 30)).targets["next_reply"]
    assert next_reply.started_at == md(2026, 11, 23, 10, 0)
    assert next_reply.due_at == md(2026, 11, 23, 18, 0)
    assert next_reply.cycle == 1


def test_next_reply_restarts_at_each_customer_message_after_a_reply() -> None:
    sla = run(conversation(), md(2026, 11, 24, 10, 0))
    next_reply = sla.targets["next_reply"]
    assert next_reply.cycle == 2 and next_reply.earlier == (True,)
    assert next_reply.due_at == md(2026, 11, 24, 17, 0)
    assert next_reply.business_left == 7 * H
    assert sla.targets["first_reply"].state == "met"


def test_next_reply_between_cycles_shows_the_last_one() -> None:
    next_reply = run(conversation(), md(2026, 11, 23, 17, 0)).targets["next_reply"]
    assert next_reply.state == "met" and next_reply.stopped_at == md(2026, 11, 23, 12, 0)
    assert next_reply.business_left == 6 * H


def test_customer_message_before_the_first_reply_starts_no_next_reply() -> None:
    facts = ticket(md(2026, 11, 23, 9, 0), customer(md(2026, 11, 23, 10, 0)), priority="high")
    sla = run(facts, md(2026, 11, 23, 11, 0))
    assert "next_reply" not in sla.targets
    assert sla.targets["first_reply"].due_at == md(2026, 11, 23, 14, 0)


# ----- solved, reopened, closed ---------------------------------------------------------------


def reopened() -> TicketFacts:
    return ticket(
        md(2026, 11, 23, 9, 0),
        reply(md(2026, 11, 23, 10, 0)),
        status(md(2026, 11, 23, 12, 0), "solved"),
        customer(md(2026, 11, 25, 9, 0)),
    )


def test_solved_stops_resolution() -> None:
    resolution = run(reopened(), md(2026, 11, 24, 12, 0)).targets["resolution"]
    assert resolution.state == "met" and resolution.met
    assert resolution.stopped_at == md(2026, 11, 23, 12, 0)
    assert resolution.business_left == 24 * H


def test_customer_message_reopens_and_resolution_resumes() -> None:
    sla = run(reopened(), md(2026, 11, 25, 10, 0))
    resolution = sla.targets["resolution"]
    assert resolution.state == "ok" and resolution.met is None
    assert resolution.business_left == 23 * H
    # 24 h left from Wednesday 09:00: Wed 9, Thu 9, Fri 6.
    assert resolution.due_at == md(2026, 11, 27, 15, 0)
    assert resolution.cycle == 1
    assert sla.targets["next_reply"].due_at == md(2026, 11, 25, 18, 0)


def test_resolution_can_restart_on_reopen() -> None:
    settings = SlaSettings(reopen="restart")
    resolution = run(reopened(), md(2026, 11, 25, 10, 0), settings=settings).targets["resolution"]
    assert resolution.cycle == 2 and resolution.earlier == (True,)
    assert resolution.due_at == md(2026, 11, 27, 18, 0)
    assert resolution.business_left == 26 * H


def test_solved_again_after_reopen_counts_the_whole_unsolved_time() -> None:
    facts = ticket(
        md(2026, 11, 23, 9, 0),
        reply(md(2026, 11, 23, 10, 0)),
        status(md(2026, 11, 23, 12, 0), "solved"),
        customer(md(2026, 11, 25, 9, 0)),
        reply(md(2026, 11, 25, 10, 0)),
        status(md(2026, 11, 30, 9, 0), "solved"),
    )
    resolution = run(facts, md(2026, 12, 1, 9, 0)).targets["resolution"]
    # 3 h before the first solve, then Wed 9 + Thu 9 + Fri 9 = 30 h > 27 h.
    assert resolution.state == "missed" and resolution.met is False
    assert resolution.business_left == -3 * H
    assert resolution.due_at == md(2026, 11, 27, 15, 0)


def test_solved_without_a_reply_stops_the_first_reply() -> None:
    facts = ticket(
        md(2026, 11, 23, 9, 0),
        status(md(2026, 11, 23, 10, 0), "solved"),
        customer(md(2026, 11, 23, 11, 0)),
    )
    sla = run(facts, md(2026, 11, 23, 12, 0))
    assert sla.targets["first_reply"].state == "met"
    assert sla.targets["next_reply"].started_at == md(2026, 11, 23, 11, 0)
    assert sla.targets["resolution"].state == "ok"


def test_a_closed_ticket_ignores_customer_messages() -> None:
    facts = ticket(
        md(2026, 11, 23, 9, 0),
        reply(md(2026, 11, 23, 10, 0)),
        status(md(2026, 11, 23, 12, 0), "closed"),
        customer(md(2026, 11, 25, 9, 0)),
    )
    sla = run(facts, md(2026, 11, 26, 9, 0))
    assert "next_reply" not in sla.targets
    assert sla.targets["resolution"].state == "met"


def test_explicit_reopen_of_a_closed_ticket_resumes_resolution() -> None:
    facts = ticket(
        md(2026, 11, 23, 9, 0),
        status(md(2026, 11, 23, 12, 0), "closed"),
        status(md(2026, 11, 25, 9, 0), "open"),
    )
    resolution = run(facts, md(2026, 11, 25, 10, 0)).targets["resolution"]
    assert resolution.state == "ok" and resolution.business_left == 23 * H


# ----- inputs -------------------------------------------------------------------------------


def test_events_after_now_are_ignored_and_order_does_not_matter() -> None:
    events = [reply(md(2026, 11, 23, 13, 0)), customer(md(2026, 11, 23, 12, 0))]
    facts = ticket(md(2026, 11, 23, 9, 0), *events, priority="high")
    before = run(facts, md(2026, 11, 23, 12, 30))
    assert before.targets["first_reply"].state == "ok"
    assert before.targets["first_reply"].business_left == H + 30 * M
    after = run(facts, md(2026, 11, 23, 14, 0))
    assert after.targets["first_reply"].stopped_at == md(2026, 11, 23, 13, 0)


def test_now_before_creation_counts_nothing() -> None:
    facts = ticket(md(2026, 11, 23, 9, 0), priority="high")
    first = run(facts, md(2026, 11, 22, 9, 0)).targets["first_reply"]
    assert first.business_left == 5 * H


def test_no_matching_policy_means_no_targets() -> None:
    settings = SlaSettings(policies=[SlaPolicySettings(name="vip", tag=["vip"], first_reply="1h")])
    sla = run(ticket(md(2026, 11, 23, 9, 0)), md(2026, 11, 23, 10, 0), settings=settings)
    assert sla.policy_name is None and sla.targets == {}
    sla = run(
        ticket(md(2026, 11, 23, 9, 0), tags=frozenset({"VIP"})),
        md(2026, 11, 23, 9, 30),
        settings=settings,
    )
    assert sla.policy_name == "vip"


def test_policy_warning_threshold_overrides_the_global_one() -> None:
    policy = SlaPolicySettings(name="p", first_reply="10h", warning_threshold=0.5)
    settings = SlaSettings(policies=[policy])
    facts = ticket(md(2026, 11, 23, 9, 0))
    assert (
        run(facts, md(2026, 11, 23, 13, 59), settings=settings).targets["first_reply"].state == "ok"
    )
    assert run(facts, md(2026, 11, 23, 14, 0), settings=settings).targets["first_reply"].state == (
        "warning"
    )


def test_calendar_lookup_may_be_a_function() -> None:
    always = BusinessCalendar.always_open()
    facts = ticket(md(2026, 11, 21, 12, 0), priority="high")
    sla = evaluate(facts, settings=DEFAULTS, calendars=lambda policy: always, now=facts.created_at)
    assert sla.targets["first_reply"].due_at == md(2026, 11, 21, 17, 0)


def test_engine_gives_the_same_answer_as_evaluate() -> None:
    engine = SlaEngine(DEFAULTS, SPAIN)
    now = md(2026, 11, 24, 10, 0)
    assert engine.evaluate(conversation(), now=now) == run(conversation(), now)


def test_most_urgent_prefers_breached_then_soonest() -> None:
    facts = ticket(
        md(2026, 11, 23, 9, 0),
        reply(md(2026, 11, 23, 9, 30)),
        customer(md(2026, 11, 23, 10, 0)),
        priority="urgent",
    )
    sla = run(facts, md(2026, 11, 23, 12, 30))
    urgent: TargetState | None = sla.most_urgent()
    assert urgent is not None and urgent.target == "next_reply"  # due 12:00, breached
    assert urgent.state == "breached"
    sla = run(facts, md(2026, 11, 23, 11, 0))
    urgent = sla.most_urgent()
    assert urgent is not None and urgent.target == "next_reply" and urgent.state == "ok"


@pytest.mark.parametrize(
    ("kind", "status_value"),
    [("status", None), ("agent_reply", "open"), ("nonsense", None), ("status", "archived")],
)
def test_bad_events_are_refused(kind: str, status_value: str | None) -> None:
    with pytest.raises(ValueError):
        ClockEvent(md(2026, 11, 23, 9, 0), kind, status_value)  # type: ignore[arg-type]


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        run(ticket(datetime(2026, 11, 23, 9, 0)), md(2026, 11, 23, 10, 0))
    with pytest.raises(ValueError, match="time zone"):
        run(ticket(md(2026, 11, 23, 9, 0)), datetime(2026, 11, 23, 10, 0))
    naive_event = reply(datetime(2026, 11, 23, 9, 30))
    with pytest.raises(ValueError, match="time zone"):
        run(
            ticket(md(2026, 11, 23, 9, 0), reply(md(2026, 11, 23, 9, 5)), naive_event),
            md(2026, 11, 23, 10, 0),
        )


def test_simultaneous_events_keep_their_order() -> None:
    at = md(2026, 11, 23, 10, 0)
    solved_then_written = ticket(
        md(2026, 11, 23, 9, 0), reply(at), status(at, "solved"), customer(at)
    )
    written_then_solved = ticket(
        md(2026, 11, 23, 9, 0), reply(at), customer(at), status(at, "solved")
    )
    now = md(2026, 11, 23, 12, 0)
    assert run(solved_then_written, now).targets["resolution"].state == "ok"  # reopened
    assert run(written_then_solved, now).targets["resolution"].state == "met"


def test_reply_after_a_due_time_at_closing_is_late_though_no_business_time_passed() -> None:
    # High ticket Monday 13:00: 5 h run out at 18:00 (closing time).
    created = md(2026, 11, 23, 13, 0)
    at_closing = run(ticket(created, priority="high"), md(2026, 11, 23, 18, 0))
    assert at_closing.targets["first_reply"].state == "breached"
    on_time = ticket(created, reply(md(2026, 11, 23, 18, 0)), priority="high")
    assert run(on_time, md(2026, 11, 24, 9, 0)).targets["first_reply"].state == "met"
    evening = ticket(created, reply(md(2026, 11, 23, 19, 0)), priority="high")
    first = run(evening, md(2026, 11, 24, 9, 0)).targets["first_reply"]
    assert first.state == "missed" and first.met is False
    assert first.business_left == timedelta()
    assert first.due_at == md(2026, 11, 23, 18, 0)


def test_the_shops_own_closed_days_do_not_count() -> None:
    summer = CalendarSet.from_settings(
        BusinessHoursSettings(closed_days=[date(2026, 8, 10), date(2026, 8, 11)]),
        timezone="Europe/Madrid",
        country="ES",
    )
    facts = ticket(md(2026, 8, 7, 17, 30), priority="high")  # Friday before the closed days
    first = run(facts, md(2026, 8, 11, 12, 0), calendars=summer).targets["first_reply"]
    assert first.due_at == md(2026, 8, 12, 13, 30)
    assert first.business_left == 4 * H + 30 * M
    assert run(facts, md(2026, 8, 11, 12, 0)).targets["first_reply"].due_at == md(
        2026, 8, 10, 13, 30
    )
