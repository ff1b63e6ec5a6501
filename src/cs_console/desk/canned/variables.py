"""The values of the standard template variables for one ticket.

One function gathers them so the CLI (``reply --answer``) and the console's
editor fill a canned answer the same way.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from cs_console.config import Settings
from cs_console.desk.autoreply import describe_time
from cs_console.desk.canned.orders import find_order_number
from cs_console.store.models import Agent, Customer, Direction, Message, Ticket

__all__ = ["expected_answer_text", "ticket_variables"]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def expected_answer_text(
    due: datetime | None, *, now: datetime, zone: ZoneInfo, language: str
) -> str:
    """``"24 horas (antes del martes 25 de noviembre a las 14:00)"``, or ``""``.

    The wait is rounded up to whole hours (up to 48) or days, so it reads after
    "within ..." / "en un plazo de ..."; the due time is in the shop's zone.
    Empty when there is no due time or it has passed (the template's default
    then applies).
    """
    if due is None:
        return ""
    due = _aware(due)
    seconds = (due - _aware(now)).total_seconds()
    if seconds <= 0:
        return ""
    hours = max(1, math.ceil(seconds / 3600))
    if hours <= 48:
        amount = (
            f"{hours} hora{'s' if hours != 1 else ''}"
            if language == "es"
            else f"{hours} hour{'s' if hours != 1 else ''}"
        )
    else:
        days = math.ceil(hours / 24)
        amount = f"{days} días" if language == "es" else f"{days} days"
    return f"{amount} ({describe_time(due, zone=zone, language=language)})"


def _due(ticket: Ticket, now: datetime) -> datetime | None:
    """The resolution due time (the promise of a full answer), else the earliest running one."""
    for due in (ticket.resolution_due, ticket.sla_due_at):
        if due is not None and _aware(due) > _aware(now):
            return due
    return None


def ticket_variables(
    session: Session,
    settings: Settings,
    ticket: Ticket,
    *,
    agent: Agent | None,
    now: datetime,
    language: str | None = None,
) -> dict[str, str]:
    """Values for every standard variable of a canned answer on ``ticket``.

    Args:
        settings: Shop name and time zone, agent name, order-number patterns.
        ticket: The ticket answered.
        agent: Who answers (their display name, else their name); None uses
            ``[agent]`` of the config.
        now: The time of the reply (the expected answer time counts from it).
        language: Language of the answer (for ``expected_answer_time``);
            default the ticket's, else the shop's.

    Returns:
        ``customer_first_name``, ``customer_name``, ``order_number`` (from the
        customer's messages, newest first, then the subject), ``ticket_number``,
        ``agent_name``, ``shop_name`` and ``expected_answer_time`` (see
        :func:`expected_answer_text`); a value not known is ``""``, so the
        template's default or missing marker applies.
    """
    customer = session.get(Customer, ticket.customer_id)
    name = " ".join((customer.name if customer else "").split())
    texts = session.exec(
        select(Message.new_text)
        .where(Message.ticket_id == ticket.id, Message.direction == Direction.IN.value)
        .order_by(col(Message.created_at).desc(), col(Message.id).desc())
    ).all()
    order = find_order_number([*texts, ticket.subject], patterns=settings.canned.order_patterns)
    if agent is not None:
        agent_name = agent.display_name or agent.name
    else:
        agent_name = settings.agent.display_name or settings.agent.name
    lang = language or ticket.language or settings.shop.language
    return {
        "customer_first_name": name.split()[0] if name else "",
        "customer_name": name,
        "order_number": order or "",
        "ticket_number": str(ticket.id) if ticket.id is not None else "",
        "agent_name": agent_name,
        "shop_name": settings.shop.name,
        "expected_answer_time": expected_answer_text(
            _due(ticket, now),
            now=now,
            zone=ZoneInfo(settings.shop.timezone),
            language="es" if lang == "es" else "en",
        ),
    }
