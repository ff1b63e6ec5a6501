"""SLA: business calendars, policies and the per-ticket clocks.

Everything here is pure domain code: no I/O, no clock reads (``now`` is a
parameter). The usual flow::

    calendars = CalendarSet.from_settings(config.business_hours, timezone="Europe/Madrid",
                                          country="ES", region="MD")
    sla = evaluate(facts, settings=config.sla, calendars=calendars, now=now)
    fields = queue_fields(sla)            # cache in the ticket table
    actions = escalations(sla, config.sla.escalation, applied=already_applied)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cs_console._lazy import attach

if TYPE_CHECKING:
    from cs_console.desk.sla.calendar import BusinessCalendar, CalendarLookup, CalendarSet
    from cs_console.desk.sla.clock import SlaEngine, engine_for, evaluate
    from cs_console.desk.sla.compliance import ComplianceReport, TargetCompliance, compliance
    from cs_console.desk.sla.escalation import EscalationAction, escalation_key, escalations
    from cs_console.desk.sla.model import ClockEvent, TargetState, TicketFacts, TicketSla
    from cs_console.desk.sla.policy import match_policy, policy_matches
    from cs_console.desk.sla.queue import SLA_STATES, QueueFields, queue_fields, urgency_key
    from cs_console.desk.sla.settings import (
        STATUSES,
        TARGETS,
        BusinessHoursSettings,
        Duration,
        EscalationRule,
        PauseSettings,
        SlaPolicySettings,
        SlaSettings,
        default_policies,
        parse_duration,
        parse_duration_minutes,
        parse_span,
    )

__getattr__, __dir__ = attach(
    __name__,
    {
        "BusinessCalendar": "cs_console.desk.sla.calendar",
        "BusinessHoursSettings": "cs_console.desk.sla.settings",
        "CalendarLookup": "cs_console.desk.sla.calendar",
        "CalendarSet": "cs_console.desk.sla.calendar",
        "ClockEvent": "cs_console.desk.sla.model",
        "ComplianceReport": "cs_console.desk.sla.compliance",
        "Duration": "cs_console.desk.sla.settings",
        "EscalationAction": "cs_console.desk.sla.escalation",
        "EscalationRule": "cs_console.desk.sla.settings",
        "PauseSettings": "cs_console.desk.sla.settings",
        "QueueFields": "cs_console.desk.sla.queue",
        "SLA_STATES": "cs_console.desk.sla.queue",
        "STATUSES": "cs_console.desk.sla.settings",
        "SlaEngine": "cs_console.desk.sla.clock",
        "SlaPolicySettings": "cs_console.desk.sla.settings",
        "SlaSettings": "cs_console.desk.sla.settings",
        "TARGETS": "cs_console.desk.sla.settings",
        "TargetCompliance": "cs_console.desk.sla.compliance",
        "TargetState": "cs_console.desk.sla.model",
        "TicketFacts": "cs_console.desk.sla.model",
        "TicketSla": "cs_console.desk.sla.model",
        "compliance": "cs_console.desk.sla.compliance",
        "default_policies": "cs_console.desk.sla.settings",
        "engine_for": "cs_console.desk.sla.clock",
        "escalation_key": "cs_console.desk.sla.escalation",
        "escalations": "cs_console.desk.sla.escalation",
        "evaluate": "cs_console.desk.sla.clock",
        "match_policy": "cs_console.desk.sla.policy",
        "parse_duration": "cs_console.desk.sla.settings",
        "parse_duration_minutes": "cs_console.desk.sla.settings",
        "parse_span": "cs_console.desk.sla.settings",
        "policy_matches": "cs_console.desk.sla.policy",
        "queue_fields": "cs_console.desk.sla.queue",
        "urgency_key": "cs_console.desk.sla.queue",
    },
)

__all__ = [
    "SLA_STATES",
    "STATUSES",
    "TARGETS",
    "BusinessCalendar",
    "BusinessHoursSettings",
    "CalendarLookup",
    "CalendarSet",
    "ClockEvent",
    "ComplianceReport",
    "Duration",
    "EscalationAction",
    "EscalationRule",
    "PauseSettings",
    "QueueFields",
    "SlaEngine",
    "SlaPolicySettings",
    "SlaSettings",
    "TargetCompliance",
    "TargetState",
    "TicketFacts",
    "TicketSla",
    "compliance",
    "default_policies",
    "engine_for",
    "escalation_key",
    "escalations",
    "evaluate",
    "match_policy",
    "parse_duration",
    "parse_duration_minutes",
    "parse_span",
    "policy_matches",
    "queue_fields",
    "urgency_key",
]
