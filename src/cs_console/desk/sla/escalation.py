"""Escalation: the actions the ``[[sla.escalation]]`` rules call for, each fired once per cycle.

The function is pure: it reads the ticket's SLA state, the rules and the keys
of the escalations already applied to the ticket, and returns what to do. The
caller applies the actions and records each ``action.key`` in the ticket's
event log, so the next call leaves it out.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from cs_console.desk.sla.model import TicketSla
from cs_console.desk.sla.settings import EscalationRule

#: Which target states satisfy a rule's ``when``: a warning rule also fires on
#: a breach (the ticket may have gone from ok to breached between two looks).
_FIRES_ON = {"warning": ("warning", "breached"), "breached": ("breached",)}


@dataclass(frozen=True, slots=True)
class EscalationAction:
    """One escalation to apply to a ticket.

    Attributes:
        key: ``"<rule key>@<target>"`` (``"...#<cycle>"`` from a target's second
            cycle on); record it so the escalation fires once per cycle.
        rule: The rule's key.
        target: The target that triggered it.
        when: ``warning`` or ``breached``.
        set_priority: New priority, if the rule sets one.
        add_tag: Tag to add, if any.
        assign: Agent to assign, if any.
    """

    key: str
    rule: str
    target: str
    when: str
    set_priority: str | None = None
    add_tag: str | None = None
    assign: str | None = None


def escalation_key(rule: EscalationRule, target: str, cycle: int = 1) -> str:
    """The key under which the escalation of ``rule`` for ``target`` is recorded.

    Each cycle of a target (the next reply owed after each customer message, a
    resolution clock restarted on reopening) escalates on its own: a ticket
    whose second reply is late is escalated again, not only the first time.
    """
    key = f"{rule.key}@{target}"
    return key if cycle <= 1 else f"{key}#{cycle}"


def escalations(
    sla: TicketSla,
    rules: Sequence[EscalationRule],
    *,
    applied: Collection[str] = (),
) -> list[EscalationAction]:
    """The escalations due for a ticket, in rule order, leaving out those already applied.

    A rule fires for each target it names (any target when it names none) whose
    clock is running or paused and whose state is at least the rule's ``when``,
    when the ticket's policy is one the rule names (any when it names none).
    Finished targets (met or missed) never escalate.
    """
    actions: list[EscalationAction] = []
    for rule in rules:
        if rule.policy and sla.policy_name not in rule.policy:
            continue
        states = _FIRES_ON[rule.when]
        for name, target in sla.targets.items():
            if rule.target and name not in rule.target:
                continue
            if target.stopped_at is not None or target.state not in states:
                continue
            key = escalation_key(rule, name, target.cycle)
            if key in applied:
                continue
            actions.append(
                EscalationAction(
                    key=key,
                    rule=rule.key,
                    target=name,
                    when=rule.when,
                    set_priority=rule.set_priority,
                    add_tag=rule.add_tag,
                    assign=rule.assign,
                )
            )
    return actions
