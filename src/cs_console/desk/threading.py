"""Which ticket a customer message belongs to.

In order, a message joins:

1. the ticket named by our token in the subject (``[#123]``), when the sender
   is that ticket's customer or a known participant (an address in To/Cc of
   its messages); a token in mail from anyone else is ignored, so one
   customer's mail is never appended to another's ticket;
2. the ticket of a message it answers (In-Reply-To, then References, newest
   first), ours or theirs, with the same sender check;
3. an open ticket of the same customer with the same normalised subject
   (``Re:``/``Fwd:``/``AW:``/``RV:``... stripped) active within a window
   (7 days by default);
4. otherwise a new ticket.

A matched ticket that is solved takes the message and reopens when the
customer writes within ``reopen_within`` of the solution; a closed ticket, or a
solved one older than that, gets a new follow-up ticket linked to it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlmodel import Session, col, select

from cs_console.desk.threading_settings import ThreadingSettings
from cs_console.store.models import OPEN_STATUSES, Message, OutboxItem, Status, Ticket

__all__ = [
    "ThreadDecision",
    "ThreadLookup",
    "ThreadingSettings",
    "decide_thread",
    "normalize_subject",
    "subject_with_token",
    "ticket_tokens",
]

_TOKEN = re.compile(r"\[#(\d{1,9})\]")
_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|rv|res|enc|sv|vs|tr|antw|odp|r|ynt|vá|rif)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]"
    r"|\[#\d{1,9}\]|\[[^\]]{0,40}\]\s*(?=\S))\s*",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class ThreadDecision:
    """Where a message goes: ``append`` / ``reopen`` to ``ticket``, or a ``new`` ticket.

    ``follow_up_of`` is set for a new ticket that continues a closed one.
    """

    action: str  # append, reopen, new
    ticket: Ticket | None
    reason: str
    follow_up_of: Ticket | None = None


def ticket_tokens(subject: str) -> list[int]:
    """Ticket numbers named by ``[#N]`` tokens in a subject, in order."""
    return [int(m) for m in _TOKEN.findall(subject or "")]


def subject_with_token(subject: str, number: int) -> str:
    """``subject`` carrying the token of ticket ``number`` exactly once."""
    token = f"[#{number}]"
    if token in (subject or ""):
        return subject
    return f"{subject} {token}".strip() if subject else token


@lru_cache(maxsize=20_000)  # a sync compares the same few subjects over and over
def normalize_subject(subject: str) -> str:
    """The subject without reply/forward prefixes, tokens and case, for comparison.

    >>> normalize_subject("RE: Fwd: AW:  ¿Dónde está mi pedido? [#12]")
    '¿donde esta mi pedido?'
    """
    text = subject or ""
    previous = None
    while previous != text:
        previous = text
        text = _PREFIX.sub("", text, count=1)
    text = _TOKEN.sub(" ", text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SPACE.sub(" ", text).strip().casefold()


def participants(session: Session, ticket_id: int) -> set[str]:
    """Lowercased addresses that took part in a ticket: senders and To/Cc of its messages."""
    rows = session.exec(
        select(Message.from_address, Message.to_addresses, Message.cc_addresses).where(
            Message.ticket_id == ticket_id
        )
    ).all()
    found: set[str] = set()
    for sender, to, cc in rows:
        if sender:
            found.add(sender.lower())
        for field in (to, cc):
            found.update(a.strip().lower() for a in (field or "").split(",") if a.strip())
    return found


def decide_thread(
    session: Session,
    *,
    sender: str,
    customer_id: int | None,
    subject: str,
    in_reply_to: Sequence[str],
    references: Sequence[str],
    at: datetime,
    settings: ThreadingSettings,
    own_addresses: Iterable[str] = (),
    automated: bool = False,
    lookup: ThreadLookup | None = None,
) -> ThreadDecision:
    """Decide where a customer message goes (see the module docstring for the order).

    Args:
        sender: The lowercased From address.
        customer_id: The sender's customer row, or None when they are new.
        at: When the customer wrote; windows are measured from it.
        automated: An auto-reply or bounce never reopens a ticket: it is
            appended to the ticket it answers, solved or not.
        lookup: Where tickets are looked up (a batch passes one with its
            rows prefetched); by default the database, one query at a time.
    """
    lookup = lookup or ThreadLookup(session)
    own = {a.lower() for a in own_addresses}

    def allowed(ticket: Ticket) -> bool:
        if customer_id is not None and ticket.customer_id == customer_id:
            return True
        assert ticket.id is not None
        return sender.lower() in lookup.participants(ticket.id) - own

    for number in ticket_tokens(subject):
        ticket = _resolve(session, lookup.ticket(number))
        if ticket is not None and allowed(ticket):
            return _join(ticket, f"ticket token [#{number}]", at, settings, automated)

    ids = [*reversed(list(in_reply_to)), *reversed(list(references))]
    ids = list(dict.fromkeys(i for i in ids if i))
    if ids:
        found = lookup.tickets_by_message_ids(ids)
        for mid in ids:
            ticket = _resolve(session, found.get(mid))
            if ticket is not None and allowed(ticket):
                return _join(ticket, f"reply to <{mid}>", at, settings, automated)

    key = normalize_subject(subject)
    if customer_id is not None and key:
        since = at - settings.subject_window_delta
        for ticket in lookup.open_tickets(customer_id, since):
            if normalize_subject(ticket.subject) == key:
                return ThreadDecision("append", ticket, "same customer and subject")
    return ThreadDecision("new", None, "new conversation")


class ThreadLookup:
    """The questions threading asks of the database, one query each.

    A batch ingest subclasses it to answer from rows fetched once per batch.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def ticket(self, number: int) -> Ticket | None:
        return self.session.get(Ticket, number)

    def participants(self, ticket_id: int) -> set[str]:
        return participants(self.session, ticket_id)

    def tickets_by_message_ids(self, ids: list[str]) -> dict[str, Ticket]:
        return _tickets_by_message_ids(self.session, ids)

    def open_tickets(self, customer_id: int, since: datetime) -> list[Ticket]:
        """The customer's open, unmerged tickets active since ``since``, latest first."""
        return list(
            self.session.exec(
                select(Ticket)
                .where(
                    Ticket.customer_id == customer_id,
                    col(Ticket.status).in_([s.value for s in OPEN_STATUSES]),
                    col(Ticket.updated_at) >= since,
                    col(Ticket.merged_into_id).is_(None),
                )
                .order_by(col(Ticket.updated_at).desc())
            ).all()
        )


def _join(
    ticket: Ticket, reason: str, at: datetime, settings: ThreadingSettings, automated: bool
) -> ThreadDecision:
    if ticket.status in (Status.SOLVED.value, Status.CLOSED.value) and not automated:
        solved = ticket.solved_at or ticket.closed_at or ticket.updated_at
        if ticket.status == Status.SOLVED.value and at - solved <= settings.reopen_delta:
            return ThreadDecision("reopen", ticket, reason)
        return ThreadDecision("new", None, f"{reason}; follow-up", follow_up_of=ticket)
    return ThreadDecision("append", ticket, reason)


def _resolve(session: Session, ticket: Ticket | None) -> Ticket | None:
    """Follow merges to the ticket that absorbed this one."""
    seen: set[int] = set()
    while ticket is not None and ticket.merged_into_id and ticket.id not in seen:
        seen.add(ticket.id)  # type: ignore[arg-type]
        ticket = session.get(Ticket, ticket.merged_into_id)
    return ticket


def _tickets_by_message_ids(session: Session, ids: list[str]) -> dict[str, Ticket]:
    """Tickets of known messages (ours and theirs) and of outbox items, by Message-ID."""
    found: dict[str, int] = {}
    bracketed = [f"<{i}>" for i in ids]
    rows = session.exec(
        select(Message.message_id, Message.ticket_id).where(col(Message.message_id).in_(ids))
    ).all()
    for mid, ticket_id in rows:
        if mid is not None:
            found.setdefault(mid, ticket_id)
    rows2 = session.exec(
        select(OutboxItem.message_id, OutboxItem.ticket_id).where(
            col(OutboxItem.message_id).in_(ids + bracketed)
        )
    ).all()
    for out_mid, out_ticket in rows2:
        if out_ticket is not None:
            found.setdefault(out_mid.strip("<>"), out_ticket)
    return {mid: t for mid, tid in found.items() if (t := session.get(Ticket, tid)) is not None}
