"""Escalation rules: which actions fire, and each only once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from cs_console.desk.sla import (
    BusinessHoursSettings,
    CalendarSet,
    ClockEvent,
    EscalationAction,
    EscalationRule,
    SlaSettings,
    TicketFacts,
    TicketSla,
    escalations,
    evaluate,
)

MADRID = ZoneInfo("Europe/Madrid")
CALENDARS = CalendarSet.from_settings(
    BusinessHoursSettings(), timezone="Europe/Madrid", country="ES"
)
WARN_TAG = EscalationRule(when="warning", target="first_reply", add_tag="escalated")  # type: ignore[arg-type]
BREACH_MARIA = EscalationRule(
    name="maria",
    when="breached",
    target=["first_reply", "next_reply"],
    set_priority="urgent",
    assign="maria",
)
ONLY_LOW = EscalationRule(name="low", when="warning", policy=["low"], add_tag="slow")  # type: ignore[arg-type]
RULES = [WARN_TAG, BREACH_MARIA, ONLY_LOW]
SETTINGS = SlaSettings(escalation=RULES)


def md(*args: int) -> datetime:
    return datetime(*args, tzinfo=MADRID)  # type: ignore[misc]


def sla_at(now: datetime, *events: ClockEvent, priority: str = "high") -> TicketSla:
    facts = TicketFacts(created_at=md(2026, 11, 23, 9, 0), priority=priority, events=events)
    return evaluate(facts, settings=SETTINGS, calendars=CALENDARS, now=now)


def keys(actions: list[EscalationAction]) -> list[str]:
    return [a.key for a in actions]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (md(2026, 11, 23, 12, 0), []),  # 2 h left of 5: ok
        (
            md(2026, 11, 23, 13, 0),
            ["warning:first_reply:*:priority=:tag=escalated:assign=@first_reply"],
        ),
        (
            md(2026, 11, 23, 14, 30),
            [
                "warning:first_reply:*:priority=:tag=escalated:assign=@first_reply",
                "maria@first_reply",
            ],
        ),
    ],
)
def test_rules_fire_by_state(now: datetime, expected: list[str]) -> None:
    assert keys(escalations(sla_at(now), RULES)) == expected


def test_an_escalation_fires_once() -> None:
    sla = sla_at(md(2026, 11, 23, 14, 30))
    first = escalations(sla, RULES)
    assert first[1] == EscalationAction(
        key="maria@first_reply",
        rule="maria",
        target="first_reply",
        when="breached",
        set_priority="urgent",
        add_tag=None,
        assign="maria",
    )
    assert escalations(sla, RULES, applied={a.key for a in first}) == []
    later = sla_at(md(2026, 11, 24, 12, 0))
    assert escalations(later, RULES, applied={a.key for a in first}) == []


def test_finished_targets_do_not_escalate() -> None:
    late_reply = ClockEvent.agent_reply(md(2026, 11, 23, 15, 0))
    sla = sla_at(md(2026, 11, 23, 16, 0), late_reply)
    assert sla.targets["first_reply"].state == "missed"
    assert escalations(sla, RULES) == []


def test_breach_on_a_paused_target_still_escalates() -> None:
    pending = ClockEvent.status_change(md(2026, 11, 23, 15, 0), "pending")
    sla = sla_at(md(2026, 11, 24, 10, 0), pending)
    assert "maria@first_reply" in keys(escalations(sla, RULES))


def test_policy_filter() -> None:
    sla = sla_at(md(2026, 11, 24, 16, 0), priority="low")  # 16 of 18 business hours used
    assert sla.policy_name == "low"
    assert "low@first_reply" in keys(escalations(sla, RULES))
    assert "low@first_reply" not in keys(escalations(sla_at(md(2026, 11, 23, 13, 0)), RULES))


def test_next_reply_breach_escalates_under_its_own_key() -> None:
    events = (
        ClockEvent.agent_reply(md(2026, 11, 23, 9, 30)),
        ClockEvent.customer_message(md(2026, 11, 23, 10, 0)),
    )
    sla = sla_at(md(2026, 11, 24, 11, 0), *events)  # 8 h next-reply target ran out Tue 10:00
    assert keys(escalations(sla, RULES, applied={"maria@first_reply"})) == ["maria@next_reply"]


def test_each_next_reply_cycle_escalates_again() -> None:
    first_cycle = (
        ClockEvent.agent_reply(md(2026, 11, 23, 9, 30)),
        ClockEvent.customer_message(md(2026, 11, 23, 10, 0)),
    )
    late = sla_at(md(2026, 11, 24, 11, 0), *first_cycle)
    applied = {"maria@first_reply", *keys(escalations(late, RULES, applied={"maria@first_reply"}))}
    assert applied == {"maria@first_reply", "maria@next_reply"}
    # The agent replies late, the customer writes again, and that reply is late too.
    second_cycle = (
        *first_cycle,
        ClockEvent.agent_reply(md(2026, 11, 24, 11, 30)),
        ClockEvent.customer_message(md(2026, 11, 24, 12, 0)),
    )
    sla = sla_at(md(2026, 11, 25, 13, 0), *second_cycle)
    assert sla.targets["next_reply"].cycle == 2
    assert keys(escalations(sla, RULES, applied=applied)) == ["maria@next_reply#2"]
    assert escalations(sla, RULES, applied={*applied, "maria@next_reply#2"}) == []
