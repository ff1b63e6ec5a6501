"""Properties of the SLA clocks over random ticket histories (hypothesis)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_console.desk.sla import (
    STATUSES,
    BusinessHoursSettings,
    CalendarSet,
    ClockEvent,
    SlaEngine,
    SlaPolicySettings,
    SlaSettings,
    TicketFacts,
    TicketSla,
)

CALENDARS = {
    "office": CalendarSet.from_settings(
        BusinessHoursSettings(), timezone="Europe/Madrid", country="ES", region="MD"
    ),
    "split": CalendarSet.from_settings(
        BusinessHoursSettings(
            **{
                day: ["09:00-14:00", "16:00-19:00"]
                for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
            },
            saturday=["10:00-14:00"],
        ),
        timezone="Europe/Madrid",
        country="ES",
    ),
}
CHAT = SlaPolicySettings(
    name="chat",
    channel=["chat"],
    first_reply="30m",
    next_reply="1h",
    resolution="1d",
    calendar="24/7",
)
ENGINES = [
    SlaEngine(SlaSettings(policies=[CHAT, *SlaSettings().policies], reopen=reopen), calendars)
    for reopen in ("resume", "restart")
    for calendars in CALENDARS.values()
]

START = datetime(2026, 1, 1, tzinfo=UTC)
MINUTES = st.integers(min_value=0, max_value=30 * 24 * 60)
REPLY_EVENTS = st.tuples(MINUTES, st.sampled_from(["customer_message", "agent_reply"]))
ANY_EVENTS = st.one_of(
    REPLY_EVENTS, st.tuples(MINUTES, st.sampled_from([f"status:{s}" for s in STATUSES]))
)
TICKET_META = st.fixed_dictionaries(
    {
        "priority": st.sampled_from(["urgent", "high", "normal", "low"]),
        "category": st.sampled_from(["", "returns", "payment"]),
        "channel": st.sampled_from(["email", "chat"]),
    }
)
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_event(created: datetime, offset: int, kind: str) -> ClockEvent:
    at = created + timedelta(minutes=offset)
    if kind.startswith("status:"):
        return ClockEvent.status_change(at, kind.removeprefix("status:"))
    return ClockEvent(at, kind)  # type: ignore[arg-type]


def facts_for(
    created_offset: int, meta: dict[str, str], events: list[tuple[int, str]]
) -> TicketFacts:
    created = START + timedelta(minutes=created_offset)
    return TicketFacts(
        created_at=created,
        events=[make_event(created, offset, kind) for offset, kind in events],
        **meta,
    )


def comparable(a: TicketSla, b: TicketSla) -> list[tuple[str, object, object]]:
    """Targets present in both evaluations and in the same cycle."""
    return [
        (name, a.targets[name], b.targets[name])
        for name in a.targets
        if name in b.targets and a.targets[name].cycle == b.targets[name].cycle
    ]


@PROPERTY
@given(
    engine=st.sampled_from(ENGINES),
    created=st.integers(min_value=0, max_value=330 * 24 * 60),
    meta=TICKET_META,
    events=st.lists(ANY_EVENTS, max_size=12),
    t1=MINUTES,
    t2=MINUTES,
)
def test_time_left_never_increases_and_a_breach_never_heals(
    engine: SlaEngine,
    created: int,
    meta: dict[str, str],
    events: list[tuple[int, str]],
    t1: int,
    t2: int,
) -> None:
    facts = facts_for(created, meta, events)
    # Look at random instants and right before and after every event.
    offsets = sorted({t1, t2, *(o for o, _ in events), *(o + 1 for o, _ in events)})
    slas = [engine.evaluate(facts, now=facts.created_at + timedelta(minutes=o)) for o in offsets]
    for a, b in itertools.pairwise(slas):
        for _, before, after in comparable(a, b):
            assert after.business_left <= before.business_left  # type: ignore[attr-defined]
            if before.state in ("breached", "missed"):  # type: ignore[attr-defined]
                assert after.state in ("breached", "missed")  # type: ignore[attr-defined]


@PROPERTY
@given(
    engine=st.sampled_from(ENGINES),
    created=st.integers(min_value=0, max_value=330 * 24 * 60),
    meta=TICKET_META,
    events=st.lists(REPLY_EVENTS, max_size=10),
    pause=st.tuples(MINUTES, st.integers(min_value=1, max_value=10 * 24 * 60)),
    hold=st.sampled_from(["pending", "on_hold"]),
    now=MINUTES,
)
def test_pausing_never_shortens_the_time_left(
    engine: SlaEngine,
    created: int,
    meta: dict[str, str],
    events: list[tuple[int, str]],
    pause: tuple[int, int],
    hold: str,
    now: int,
) -> None:
    plain = facts_for(created, meta, events)
    start, length = pause
    paused = facts_for(
        created, meta, [*events, (start, f"status:{hold}"), (start + length, "status:open")]
    )
    offsets = {now, start, start + length, start + length + 1, *(o for o, _ in events)}
    for offset in sorted(offsets):
        at = plain.created_at + timedelta(minutes=offset)
        a = engine.evaluate(plain, now=at)
        b = engine.evaluate(paused, now=at)
        assert a.targets.keys() == b.targets.keys()
        for _, without, with_pause in comparable(a, b):
            assert with_pause.business_left >= without.business_left  # type: ignore[attr-defined]


@PROPERTY
@given(
    engine=st.sampled_from(ENGINES),
    created=st.integers(min_value=0, max_value=330 * 24 * 60),
    meta=TICKET_META,
    events=st.lists(ANY_EVENTS, max_size=12),
    now=MINUTES,
)
def test_states_are_consistent(
    engine: SlaEngine,
    created: int,
    meta: dict[str, str],
    events: list[tuple[int, str]],
    now: int,
) -> None:
    facts = facts_for(created, meta, events)
    at = facts.created_at + timedelta(minutes=now)
    sla = engine.evaluate(facts, now=at)
    policy = engine.policy_for(facts)
    assert policy is not None and sla.policy_name == policy.name
    calendar = policy.calendar
    for target in sla.targets.values():
        assert target.elapsed + target.business_left == target.target_time
        if target.running:
            assert target.due_at is not None
            assert target.wall_left == target.due_at - at
            assert (target.state == "breached") == (target.business_left <= timedelta())
            # Due times land on an open instant or at the end of an opening span.
            assert calendar.is_open(target.due_at - timedelta(microseconds=1))
            if target.business_left > timedelta():
                assert calendar.business_time_between(at, target.due_at) == target.business_left
        elif target.stopped_at is not None:
            assert target.due_at is not None
            assert target.met == (target.stopped_at <= target.due_at)
            assert target.met <= (target.business_left >= timedelta())
            assert target.state == ("met" if target.met else "missed")
        else:
            assert target.paused
            assert (target.due_at is None) == (target.state == "paused")
