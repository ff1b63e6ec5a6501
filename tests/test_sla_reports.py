"""Compliance figures and the queue's cached SLA columns."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cs_console.desk.sla import (
    BusinessHoursSettings,
    CalendarSet,
    ClockEvent,
    SlaSettings,
    TargetCompliance,
    TicketFacts,
    TicketSla,
    compliance,
    evaluate,
    queue_fields,
    urgency_key,
)

MADRID = ZoneInfo("Europe/Madrid")
CALENDARS = CalendarSet.from_settings(
    BusinessHoursSettings(), timezone="Europe/Madrid", country="ES"
)
SETTINGS = SlaSettings()
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=MADRID)  # Tuesday


def md(*args: int) -> datetime:
    return datetime(*args, tzinfo=MADRID)  # type: ignore[misc]


def sla(created: datetime, *events: ClockEvent, priority: str = "high") -> TicketSla:
    facts = TicketFacts(created_at=created, priority=priority, events=events)
    return evaluate(facts, settings=SETTINGS, calendars=CALENDARS, now=NOW)


reply = ClockEvent.agent_reply
customer = ClockEvent.customer_message


def status(at: datetime, value: str) -> ClockEvent:
    return ClockEvent.status_change(at, value)


# High: first reply 5 h, next reply 8 h, resolution 2 d (18 business hours).
ANSWERED_AND_SOLVED = sla(
    md(2026, 11, 23, 9, 0),
    reply(md(2026, 11, 23, 10, 0)),
    customer(md(2026, 11, 23, 11, 0)),
    reply(md(2026, 11, 23, 12, 0)),
    status(md(2026, 11, 23, 12, 0), "solved"),
)
LATE_THEN_RUNNING = sla(
    md(2026, 11, 23, 9, 0),
    reply(md(2026, 11, 23, 15, 0)),  # missed (due 14:00)
    customer(md(2026, 11, 23, 16, 0)),
    reply(md(2026, 11, 23, 17, 0)),  # met
    customer(md(2026, 11, 24, 11, 0)),  # running: Tuesday 7 h + 1 h -> Wednesday 10:00
)
# First reply due Monday 14:00, resolution Tuesday 18:00.
UNANSWERED_BREACHED = sla(md(2026, 11, 23, 9, 0))
WAITING_ON_CUSTOMER = sla(
    md(2026, 11, 24, 9, 0),
    reply(md(2026, 11, 24, 9, 30)),
    status(md(2026, 11, 24, 9, 30), "pending"),
)
FRESH = sla(md(2026, 11, 24, 11, 0), priority="normal")


def test_compliance_counts_every_cycle() -> None:
    report = compliance(
        [ANSWERED_AND_SOLVED, LATE_THEN_RUNNING, UNANSWERED_BREACHED, WAITING_ON_CUSTOMER, FRESH]
    )
    assert report.tickets == 5
    assert report.targets["first_reply"] == TargetCompliance(
        "first_reply", met=2, missed=1, breached=1, running=1
    )
    assert report.targets["next_reply"] == TargetCompliance(
        "next_reply", met=2, missed=0, breached=0, running=1
    )
    assert report.targets["resolution"] == TargetCompliance(
        "resolution", met=1, missed=0, breached=0, running=4
    )
    first = report.targets["first_reply"]
    assert first.total == 5 and first.failed == 2
    assert first.rate == 0.5


def test_compliance_of_nothing() -> None:
    report = compliance([])
    assert report.tickets == 0
    assert report.targets["resolution"].rate is None


def test_queue_fields_for_a_breached_ticket() -> None:
    fields = queue_fields(UNANSWERED_BREACHED)
    assert fields.first_reply_due == md(2026, 11, 23, 14, 0)
    assert fields.resolution_due == md(2026, 11, 24, 18, 0)
    assert fields.next_reply_due is None
    assert fields.earliest_due == md(2026, 11, 23, 14, 0)
    assert fields.breached and fields.sla_state == "breached"


def test_queue_fields_leave_out_stopped_and_paused_targets() -> None:
    fields = queue_fields(LATE_THEN_RUNNING)
    assert fields.first_reply_due is None  # stopped (even though it was missed)
    assert fields.next_reply_due == md(2026, 11, 25, 10, 0)
    assert fields.resolution_due == md(2026, 11, 24, 18, 0)
    assert fields.earliest_due == md(2026, 11, 24, 18, 0)
    assert not fields.breached
    waiting = queue_fields(WAITING_ON_CUSTOMER)
    assert waiting.earliest_due is None and waiting.sla_state == "paused"
    done = queue_fields(ANSWERED_AND_SOLVED)
    assert done.earliest_due is None and done.sla_state == "done" and not done.breached
    assert queue_fields(TicketSla(policy_name=None)).sla_state == "none"


def test_queue_order_breached_first_then_soonest_due() -> None:
    tickets = {
        "fresh": FRESH,
        "waiting": WAITING_ON_CUSTOMER,
        "breached": UNANSWERED_BREACHED,
        "running": LATE_THEN_RUNNING,
        "done": ANSWERED_AND_SOLVED,
    }
    order = sorted(tickets, key=lambda name: urgency_key(tickets[name]))
    assert order[:3] == ["breached", "running", "fresh"]
    assert set(order[3:]) == {"waiting", "done"}
    assert urgency_key(FRESH)[1] == md(2026, 11, 25, 11, 0).astimezone(UTC).timestamp()
