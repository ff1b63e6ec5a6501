"""How long does evaluating the SLA of a whole queue take?

Builds a deterministic set of synthetic tickets (default 100,000) with varied
histories — replies, customer follow-ups, pending and on-hold periods, solves
and reopens, created over two years so the calendar spans several years of
holidays — and times, in the same run:

- baseline: the loop that only builds the inputs (``TicketFacts``)
- the cold calendar: the first evaluation of one ticket per year (holiday and
  span tables are built on demand)
- ``evaluate`` over every ticket, on the business calendar (Madrid, ES-MD
  holidays) with the default policies and a 24/7 chat policy
- ``queue_fields`` over every result, and ``compliance`` over all of them

Run: ``python benchmarks/sla_evaluate.py [--tickets N] [--seed S]``.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from cs_console.desk.sla import (
    BusinessHoursSettings,
    CalendarSet,
    ClockEvent,
    SlaEngine,
    SlaPolicySettings,
    SlaSettings,
    TicketFacts,
    compliance,
    queue_fields,
)

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
PRIORITIES = ("urgent", "high", "normal", "normal", "normal", "low")
CATEGORIES = ("", "order status", "payment", "delivery", "returns", "warranty", "cancellation")
CHANNELS = ("email", "email", "email", "form", "chat")


def build_ticket(rng: random.Random) -> TicketFacts:
    """One synthetic ticket: created up to two years ago, 0-12 events after it.

    Most tickets get a reply, and the older ones are solved or closed.
    """
    created = NOW - timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60))
    at = created
    events: list[ClockEvent] = []
    for _ in range(rng.randrange(0, 13)):
        at += timedelta(minutes=1 + rng.expovariate(1 / (8 * 60)))  # 8 h apart on average
        if at > NOW:
            break
        roll = rng.random()
        if roll < 0.35:
            events.append(ClockEvent.customer_message(at))
        elif roll < 0.7:
            events.append(ClockEvent.agent_reply(at))
        else:
            status = rng.choice(("open", "pending", "pending", "on_hold", "solved", "closed"))
            events.append(ClockEvent.status_change(at, status))
    if created < NOW - timedelta(days=30) and rng.random() < 0.9:
        events.append(ClockEvent.status_change(min(at + timedelta(hours=4), NOW), "solved"))
    return TicketFacts(
        created_at=created,
        priority=rng.choice(PRIORITIES),
        category=rng.choice(CATEGORIES),
        channel=rng.choice(CHANNELS),
        tags=frozenset({"vip"}) if rng.random() < 0.05 else frozenset(),
        events=events,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    calendars = CalendarSet.from_settings(
        BusinessHoursSettings(), timezone="Europe/Madrid", country="ES", region="MD"
    )
    chat = SlaPolicySettings(
        name="chat", channel=["chat"], first_reply="30m", next_reply="1h", calendar="24/7"
    )
    settings = SlaSettings(policies=[chat, *SlaSettings().policies])
    engine = SlaEngine(settings, calendars)

    rng = random.Random(args.seed)
    start = time.perf_counter()
    tickets = [build_ticket(rng) for _ in range(args.tickets)]
    build_s = time.perf_counter() - start
    events = sum(len(t.events) for t in tickets)

    start = time.perf_counter()
    for year in (2024, 2025, 2026, 2027):
        created = datetime(year, 6, 1, 10, tzinfo=UTC)
        engine.evaluate(TicketFacts(created_at=created), now=created)
    cold_s = time.perf_counter() - start

    start = time.perf_counter()
    slas = [engine.evaluate(t, now=NOW) for t in tickets]
    evaluate_s = time.perf_counter() - start

    start = time.perf_counter()
    fields = [queue_fields(s) for s in slas]
    fields_s = time.perf_counter() - start

    start = time.perf_counter()
    report = compliance(slas)
    compliance_s = time.perf_counter() - start

    n = args.tickets
    print(f"{n:,} tickets, {events:,} events ({events / n:.1f} per ticket)")
    print(f"{'step':<34}{'total s':>10}{'µs/ticket':>12}")
    rows = [
        ("baseline: build the inputs", build_s),
        ("cold calendar (4 years of tables)", cold_s),
        ("evaluate", evaluate_s),
        ("queue_fields", fields_s),
        ("compliance", compliance_s),
    ]
    for label, seconds in rows:
        per = seconds / n * 1e6 if label != rows[1][0] else float("nan")
        print(f"{label:<34}{seconds:>10.3f}{per:>12.1f}")
    print(f"evaluate / build ratio: {evaluate_s / build_s:.2f}")
    states = Counter(f.sla_state for f in fields)
    print("sla_state:", ", ".join(f"{k} {v:,}" for k, v in states.most_common()))
    for name, figures in report.targets.items():
        rate = "n/a" if figures.rate is None else f"{figures.rate:.1%}"
        print(
            f"{name:<12} met {figures.met:,} missed {figures.missed:,} "
            f"breached {figures.breached:,} running {figures.running:,} (compliance {rate})"
        )


if __name__ == "__main__":
    main()
