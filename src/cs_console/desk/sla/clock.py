"""Per-ticket SLA clocks: from a ticket's history to the state of each target at ``now``.

Semantics (see ``docs/sla.md`` for the full table):

- Every target of the matched policy starts when the ticket is created.
- ``first_reply`` stops at the first agent reply. ``next_reply`` starts at a
  customer message once the first reply is done (or the ticket was solved)
  and no next-reply cycle is running; it stops at the next agent reply. Later
  customer messages do not move a running cycle: it counts from the oldest
  unanswered message.
- ``resolution`` stops at ``solved`` (or ``closed``).
- ``solved`` and ``closed`` stop every clock. A customer message on a solved
  or pending ticket reopens it (status ``open``); on a closed ticket it is
  ignored (the desk opens a follow-up ticket). On reopen the resolution clock
  resumes where it stopped (``reopen = "resume"``, default) or restarts.
- A status in a target's pause set (``[sla.pause]``) pauses it: paused time
  does not count.

Times are handled as UTC microseconds and business time as differences of the
calendar's cumulative open time, so evaluating a ticket costs a few binary
searches however long its targets are.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from operator import itemgetter

from cs_console.desk.sla.calendar import BusinessCalendar, CalendarLookup, from_us, to_us
from cs_console.desk.sla.model import TargetState, TicketFacts, TicketSla
from cs_console.desk.sla.policy import CompiledPolicy, compile_policies
from cs_console.desk.sla.settings import STOP_STATUSES, TARGETS, SlaSettings


class _Clock:
    """The mutable state of one target while the history is replayed."""

    __slots__ = (
        "active",
        "breach_at",
        "cycle",
        "earlier",
        "elapsed",
        "met",
        "name",
        "pause",
        "since",
        "since_cum",
        "started_at",
        "stopped_at",
        "target",
    )

    def __init__(self, name: str, target: int, pause: frozenset[str]) -> None:
        self.name = name
        self.target = target
        self.pause = pause
        self.active = False
        self.elapsed = 0
        self.since: int | None = None
        self.since_cum = 0
        self.breach_at: int | None = None
        self.stopped_at: int | None = None
        self.started_at = 0
        self.met: bool | None = None
        self.cycle = 0
        self.earlier: list[bool] = []


class SlaEngine:
    """Evaluates tickets against one :class:`SlaSettings` and its calendars.

    Building an engine resolves the policies once; :meth:`evaluate` is then
    pure and cheap. Settings must not be changed after the engine is built.
    """

    def __init__(self, settings: SlaSettings, calendars: CalendarLookup) -> None:
        self.settings = settings
        self.policies: list[CompiledPolicy] = compile_policies(settings, calendars)
        self._pause = {target: settings.pause.statuses(target) for target in TARGETS}
        self._restart = settings.reopen == "restart"

    def policy_for(self, facts: TicketFacts) -> CompiledPolicy | None:
        """The first policy that matches the ticket."""
        tags = frozenset(t.casefold() for t in facts.tags)
        for policy in self.policies:
            if policy.matches(facts.priority, facts.category, facts.channel, tags):
                return policy
        return None

    def evaluate(self, facts: TicketFacts, *, now: datetime) -> TicketSla:
        """The SLA of ``facts`` at ``now`` (events after ``now`` are ignored)."""
        policy = self.policy_for(facts)
        if policy is None:
            return TicketSla(policy_name=None, targets={}, now=now)
        cal = policy.calendar
        created = to_us(facts.created_at)
        n = max(to_us(now), created)
        clocks = {
            name: _Clock(name, target, self._pause[name])
            for name, target in policy.targets_us.items()
        }
        replay = _Replay(cal, clocks, restart=self._restart)
        replay.begin(created)
        stamped = [(to_us(event.at), event) for event in facts.events]
        stamped.sort(key=itemgetter(0))  # stable: simultaneous events keep their order
        for t, event in stamped:
            if t > n:
                break
            t = max(t, created)
            if event.kind == "customer_message":
                replay.customer_message(t)
            elif event.kind == "agent_reply":
                replay.agent_reply(t)
            else:
                assert event.status is not None
                replay.set_status(event.status, t)
        targets = {
            name: _target_state(cal, clock, n, policy.warning_threshold)
            for name, clock in clocks.items()
            if clock.cycle  # a next-reply target no customer message has started is left out
        }
        return TicketSla(policy_name=policy.name, targets=targets, calendar=cal.name, now=now)


class _Replay:
    """Replays a ticket's history over its clocks."""

    __slots__ = ("awaiting_first", "cal", "clocks", "restart", "status")

    def __init__(self, cal: BusinessCalendar, clocks: dict[str, _Clock], *, restart: bool) -> None:
        self.cal = cal
        self.clocks = clocks
        self.restart = restart
        self.status = "new"
        self.awaiting_first = True

    def begin(self, t: int) -> None:
        for clock in self.clocks.values():
            if clock.name != "next_reply":
                self._start(clock, t)

    def customer_message(self, t: int) -> None:
        if self.status == "closed":
            return
        if self.status in ("solved", "pending"):
            self.set_status("open", t)
        clock = self.clocks.get("next_reply")
        if clock is not None and not self.awaiting_first and not clock.active:
            if clock.cycle and clock.met is not None:
                clock.earlier.append(clock.met)
            self._start(clock, t)

    def agent_reply(self, t: int) -> None:
        if self.awaiting_first:
            self.awaiting_first = False
            clock = self.clocks.get("first_reply")
            if clock is not None and clock.active:
                self._stop(clock, t)
        clock = self.clocks.get("next_reply")
        if clock is not None and clock.active:
            self._stop(clock, t)

    def set_status(self, status: str, t: int) -> None:
        old, self.status = self.status, status
        if status in STOP_STATUSES:
            self.awaiting_first = False
            for clock in self.clocks.values():
                if clock.active:
                    self._stop(clock, t)
            return
        resolution = self.clocks.get("resolution")
        if old in STOP_STATUSES and resolution is not None and not resolution.active:
            if self.restart:
                if resolution.met is not None:
                    resolution.earlier.append(resolution.met)
                self._start(resolution, t)
            else:
                resolution.active = True
                resolution.stopped_at = None
                resolution.met = None
        for clock in self.clocks.values():
            if not clock.active:
                continue
            counting = status not in clock.pause
            if counting and clock.since is None:
                clock.since = t
                clock.since_cum = self.cal.cumulative_us(t)
            elif not counting and clock.since is not None:
                self._close(clock, t)

    def _start(self, clock: _Clock, t: int) -> None:
        clock.active = True
        clock.cycle += 1
        clock.elapsed = 0
        clock.breach_at = None
        clock.stopped_at = None
        clock.met = None
        clock.started_at = t
        if self.status in clock.pause:
            clock.since = None
        else:
            clock.since = t
            clock.since_cum = self.cal.cumulative_us(t)

    def _close(self, clock: _Clock, t: int) -> None:
        assert clock.since is not None
        before = clock.elapsed
        clock.elapsed += self.cal.cumulative_us(t) - clock.since_cum
        if before < clock.target <= clock.elapsed:
            clock.breach_at = self.cal.instant_us(
                clock.since_cum + clock.target - before, not_before=clock.since
            )
        clock.since = None

    def _stop(self, clock: _Clock, t: int) -> None:
        if clock.since is not None:
            self._close(clock, t)
        clock.active = False
        clock.stopped_at = t
        if clock.elapsed == clock.target and clock.breach_at is not None:
            # Stopped with no business time to spare: in time only up to the due instant
            # itself, not after it (e.g. a reply on Saturday to a target due Friday 18:00).
            clock.met = t <= clock.breach_at
        else:
            clock.met = clock.elapsed <= clock.target


def _target_state(cal: BusinessCalendar, clock: _Clock, now: int, threshold: float) -> TargetState:
    """The public state of a replayed clock at ``now``."""
    target = clock.target
    projected: int | None = None
    if clock.active and clock.since is not None:
        left_at_since = target - clock.elapsed
        elapsed = clock.elapsed + cal.cumulative_us(now) - clock.since_cum
        left = target - elapsed
        if left_at_since > 0:
            due = cal.instant_us(clock.since_cum + left_at_since, not_before=clock.since)
        else:
            assert clock.breach_at is not None
            due = clock.breach_at
        if left <= 0:
            state = "breached"
        elif left <= threshold * target:
            state = "warning"
        else:
            state = "ok"
        wall = due - now
        due_at: int | None = due
        paused = False
        stopped_at = None
    elif clock.active:
        elapsed = clock.elapsed
        left = target - elapsed
        paused = True
        stopped_at = None
        if left > 0:
            projected = cal.add_us(now, left)
            due_at = None
            wall = projected - now
            state = "paused"
        else:
            assert clock.breach_at is not None
            due_at = clock.breach_at
            wall = due_at - now
            state = "breached"
    else:
        assert clock.stopped_at is not None
        elapsed = clock.elapsed
        left = target - elapsed
        stopped_at = clock.stopped_at
        paused = False
        if clock.breach_at is not None:
            due_at = clock.breach_at
        else:
            due_at = cal.instant_us(cal.cumulative_us(stopped_at) + left, not_before=stopped_at)
        state = "met" if clock.met else "missed"
        wall = due_at - stopped_at
    return TargetState(
        target=clock.name,  # type: ignore[arg-type]
        due_at=None if due_at is None else from_us(due_at),
        business_left=timedelta(microseconds=left),
        wall_left=timedelta(microseconds=wall),
        state=state,  # type: ignore[arg-type]
        met=clock.met if stopped_at is not None else None,
        stopped_at=None if stopped_at is None else from_us(stopped_at),
        paused=paused,
        target_time=timedelta(microseconds=target),
        elapsed=timedelta(microseconds=elapsed),
        started_at=from_us(clock.started_at),
        projected_due_at=None if projected is None else from_us(projected),
        cycle=clock.cycle,
        earlier=tuple(clock.earlier),
    )


_ENGINES: dict[tuple[int, int], tuple[SlaSettings, CalendarLookup, SlaEngine]] = {}
_ENGINE_CACHE_SIZE = 8


def engine_for(settings: SlaSettings, calendars: CalendarLookup) -> SlaEngine:
    """A cached :class:`SlaEngine` for this settings object and calendar lookup."""
    key = (id(settings), id(calendars))
    cached = _ENGINES.get(key)
    if cached is not None and cached[0] is settings and cached[1] is calendars:
        return cached[2]
    engine = SlaEngine(settings, calendars)
    if len(_ENGINES) >= _ENGINE_CACHE_SIZE:
        _ENGINES.pop(next(iter(_ENGINES)))
    _ENGINES[key] = (settings, calendars, engine)
    return engine


def evaluate(
    facts: TicketFacts,
    *,
    settings: SlaSettings,
    calendars: CalendarLookup,
    now: datetime,
) -> TicketSla:
    """The SLA state of one ticket at ``now``.

    Args:
        facts: The ticket's history.
        settings: The ``[sla]`` settings (treated as immutable: engines are cached per object).
        calendars: A :class:`CalendarSet`, or a function giving each policy its calendar.
        now: The instant to evaluate at (aware).
    """
    return engine_for(settings, calendars).evaluate(facts, now=now)
