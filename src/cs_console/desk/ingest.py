"""One incoming message into the desk: dedupe, thread, route, store, acknowledge.

:func:`ingest_raw` takes the raw bytes of an email (from IMAP or from
``cs-console enqueue --raw``) and :func:`ingest_contact` a message from another
channel (a form, a chat). Both work inside the caller's transaction: the sync
commits a batch of messages together with the folder state that moved past
them, so a crash never records one without the other.

De-duplication: a message is the same as one already stored when its
Message-ID and its *content hash* (:func:`cs_console.desk.dedupe.dedupe_hash`)
both match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from cs_console.desk.autoreply import (
    AutoReplySettings,
    build_acknowledgement,
    enqueue_acknowledgement,
    expected_answer,
    recently_acknowledged,
)
from cs_console.desk.bulk import keep, new_object
from cs_console.desk.dedupe import dedupe_hash
from cs_console.desk.ingest_batch import BatchLookups
from cs_console.desk.routing import (
    Router,
    RoutingDecision,
    RoutingInput,
    RoutingSettings,
    message_routing_input,
)
from cs_console.desk.sla.calendar import CalendarSet
from cs_console.desk.sla.settings import SlaSettings
from cs_console.desk.surveys import record_survey_reply
from cs_console.desk.sync_parse import Prepared, StoredFile
from cs_console.desk.threading import (
    ThreadDecision,
    ThreadingSettings,
    decide_thread,
)
from cs_console.desk.ticket_sla import TicketClock
from cs_console.desk.tickets import (
    add_message,
    add_message_row,
    check_priority,
    create_ticket,
    get_or_create_agent,
    get_or_create_customer,
    get_ticket,
    normalize_tag,
    record_event,
    reopen,
    tags_of,
)
from cs_console.errors import DeskError
from cs_console.i18n import _, normalize_language
from cs_console.mail.automation import classify_automated
from cs_console.mail.parse import ParsedMessage, parse_headers, parse_message
from cs_console.store.attachments import store_blob
from cs_console.store.models import (
    Attachment,
    Customer,
    Direction,
    Message,
    MessageBodyPending,
    MessageRaw,
    OutboxItem,
    Status,
    Ticket,
    TicketTag,
)
from cs_console.textsafe import one_line, safe_filename, strip_controls

if TYPE_CHECKING:
    from cs_console.config import AccountSettings, Settings

__all__ = [
    "NO_SENDER_WARNING",
    "IngestConfig",
    "IngestResult",
    "SourceRef",
    "acknowledge_new_ticket",
    "acknowledgement_may_be_due",
    "dedupe_hash",
    "ingest_contact",
    "ingest_raw",
    "quarantine_raw",
    "store_attachments",
    "written_at",
]

UNKNOWN_SENDER = "unknown-sender@invalid"
NO_SENDER_WARNING = "the message has no readable sender address"
_FUTURE_SLACK = timedelta(minutes=15)
_PAST_LIMIT = timedelta(days=30)


@dataclass(frozen=True)
class SourceRef:
    """Where a message was found: an account's folder, at a UID."""

    account: str
    folder: str
    uidvalidity: int
    uid: int
    internal_date: datetime | None = None


@dataclass
class IngestConfig:
    """Everything the ingest needs from the settings, prepared once per run."""

    own_addresses: frozenset[str]
    accounts: dict[str, AccountSettings]
    attachments_dir: Path
    shop_name: str = "My shop"
    shop_language: str = "en"
    threading: ThreadingSettings = field(default_factory=ThreadingSettings)
    routing: RoutingSettings = field(default_factory=RoutingSettings)
    autoreply: AutoReplySettings = field(default_factory=AutoReplySettings)
    sla: SlaSettings = field(default_factory=SlaSettings)
    calendars: CalendarSet | None = None
    clock: TicketClock | None = None  # keeps the tickets' cached SLA columns current

    @classmethod
    def from_settings(cls, settings: Settings) -> IngestConfig:
        """Build from the workspace settings (sections not in the file take their defaults)."""
        own = frozenset(a.address.strip().lower() for a in settings.accounts)
        calendars = CalendarSet.from_settings(
            settings.business_hours,
            timezone=settings.shop.timezone,
            country=settings.shop.country,
            region=settings.shop.region,
        )
        return cls(
            own_addresses=own,
            accounts={a.name: a for a in settings.accounts},
            attachments_dir=settings.attachments_dir,
            shop_name=settings.shop.name,
            shop_language=settings.shop.language,
            threading=getattr(settings, "threading", None) or ThreadingSettings(),
            routing=getattr(settings, "routing", None) or RoutingSettings(),
            autoreply=getattr(settings, "autoreply", None) or AutoReplySettings(),
            sla=settings.sla,
            calendars=calendars,
            clock=TicketClock(settings),
        )

    @property
    def default_account(self) -> str | None:
        return next(iter(self.accounts), None)

    @cached_property
    def router(self) -> Router:
        """The routing rules compiled once for the run (every new ticket of it is routed)."""
        return Router(self.routing)


@dataclass(frozen=True)
class IngestResult:
    """What happened to one message.

    ``outcome`` is one of ``new_ticket``, ``appended``, ``reopened``,
    ``follow_up`` (a new ticket linked to a closed one), ``duplicate`` (already
    stored), ``own`` (our own outgoing mail, not ingested) or ``quarantined``
    (stored raw on a ticket with a warning after an error).
    """

    outcome: str
    ticket_id: int | None = None
    message_row_id: int | None = None
    warnings: tuple[str, ...] = ()
    acknowledged: bool = False
    body_pending: bool = False  # recorded from its headers; the body is read later

    @property
    def stored(self) -> bool:
        return self.outcome in ("new_ticket", "appended", "reopened", "follow_up", "quarantined")


def written_at(date: datetime | None, arrived: datetime) -> datetime:
    """When the customer wrote: the Date header unless it is absent or implausible."""
    if date is None:
        return arrived
    if date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    if date > arrived + _FUTURE_SLACK or date < arrived - _PAST_LIMIT:
        return arrived
    return date


def _cut(text: str | None, limit: int) -> str:
    return (text or "")[:limit]


def _utc(at: datetime | None) -> datetime | None:
    if at is None:
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def find_duplicate(session: Session, message_id: str | None, content_hash: str) -> Message | None:
    """A stored message with this Message-ID and content hash (both must match)."""
    query = select(Message).where(Message.content_hash == content_hash)
    if message_id:
        query = query.where(Message.message_id == _cut(message_id, 998))
    else:
        query = query.where(col(Message.message_id).is_(None))
    return session.exec(query.limit(1)).first()


def is_our_message_id(session: Session, message_id: str) -> bool:
    """Whether this Message-ID is one we sent (an outgoing message or an outbox row)."""
    mid = _cut(message_id, 998)
    out = session.exec(
        select(Message.id)
        .where(Message.message_id == mid, Message.direction == Direction.OUT.value)
        .limit(1)
    ).first()
    if out is not None:
        return True
    row = session.exec(
        select(OutboxItem.id).where(col(OutboxItem.message_id).in_([mid, f"<{mid}>"])).limit(1)
    ).first()
    return row is not None


# The same few subjects come back batch after batch (a customer's open tickets).
def _customer(
    session: Session, lookups: BatchLookups | None, address: str, name: str, now: datetime
) -> Customer:
    if lookups is None:
        return get_or_create_customer(session, address, name=name, now=now)
    customer = lookups.customers.get(address)
    if customer is None:
        found = None
        if address not in lookups.absent:
            found = session.exec(select(Customer).where(Customer.email == address)).first()
        if found is not None:  # not in the prefetch (a quarantined message's sender)
            lookups.customers[address] = found
            return found
        customer = new_object(
            Customer,
            {
                "id": lookups.ids(Customer),
                "email": address,
                "name": name.strip(),
                "created_at": now,
            },
        )
        lookups.rows.hold(customer)
        lookups.customers[address] = customer
        assert customer.id is not None
        lookups.open_by_customer[customer.id] = []
    elif name and not customer.name:
        customer.name = name.strip()
        keep(session, customer)
    return customer


def ingest_raw(
    session: Session,
    raw: bytes,
    *,
    config: IngestConfig,
    now: datetime,
    source: SourceRef | None = None,
    account: str | None = None,
    channel: str = "email",
    received_at: datetime | None = None,
    prepared: Prepared | None = None,
    lookups: BatchLookups | None = None,
) -> IngestResult:
    """Parse, de-duplicate, thread, route and store one raw email.

    Args:
        source: The IMAP position it came from (None for ``enqueue --raw``).
        account: The account it came in on (default: the source's).
        received_at: When it reached us when there is no IMAP INTERNALDATE.
        prepared: The message parsed, hashed, routed and its attachments
            stored by a sync's parser (:func:`cs_console.desk.sync_parse.prepare`).
            When only its headers were parsed (``body_pending``, a batch
            only), the message is recorded and threaded now and its body is
            read later (:mod:`cs_console.desk.sync_bodies`): a new ticket is
            routed, acknowledged and given its SLA then.
        lookups: A batch ingest's prefetched rows (:class:`BatchLookups`).
    """
    parsed = prepared.parsed if prepared else parse_message(raw)
    pending = prepared is not None and prepared.body_pending
    assert lookups is not None or not pending, "only a batch records messages from headers"
    content_hash = prepared.content_hash if prepared else dedupe_hash(raw, parsed)
    if lookups is not None:
        hit = lookups.duplicate(parsed.message_id, content_hash)
        if hit is not None:
            outcome = "own" if hit[0] == Direction.OUT.value else "duplicate"
            return IngestResult(outcome, hit[1], hit[2])
        if parsed.message_id and parsed.message_id[:998] in lookups.ours:
            return IngestResult("own")
    else:
        existing = find_duplicate(session, parsed.message_id, content_hash)
        if existing is not None:
            outcome = "own" if existing.direction == Direction.OUT.value else "duplicate"
            return IngestResult(outcome, existing.ticket_id, existing.id)
        if parsed.message_id and is_our_message_id(session, parsed.message_id):
            return IngestResult("own")
    sender = parsed.sender.address.strip().lower() if parsed.sender else ""
    if sender and sender in config.own_addresses:
        return IngestResult("own")

    account = account or (source.account if source else None)
    arrived = _utc(source.internal_date if source else None) or _utc(received_at) or now
    wrote = written_at(parsed.date, arrived)
    verdict = classify_automated(parsed, own_addresses=config.own_addresses)
    own_warnings: list[str] = []
    if sender:
        name = _cut(parsed.sender.name if parsed.sender else "", 300)
        customer = _customer(session, lookups, _cut(sender, 320), name, now)
    else:
        own_warnings.append(NO_SENDER_WARNING)
        customer = _customer(session, lookups, UNKNOWN_SENDER, "(unknown sender)", now)

    decision = decide_thread(
        session,
        sender=sender or UNKNOWN_SENDER,
        customer_id=customer.id,
        subject=parsed.subject,
        in_reply_to=parsed.in_reply_to,
        references=parsed.references,
        at=wrote,
        settings=config.threading,
        own_addresses=config.own_addresses,
        automated=verdict.automated,
        lookup=lookups,
    )
    survey_ticket = decision.ticket or decision.follow_up_of
    if (
        survey_ticket is not None
        and not verdict.automated
        and (lookups is None or lookups.may_have_survey(survey_ticket))
    ):
        if pending:  # whether it answers the survey is in its text: read the body now
            parsed, prepared, pending = parse_message(raw), None, False
        if record_survey_reply(session, survey_ticket, parsed.new_text or parsed.text, now=arrived):
            # A satisfaction answer: kept on its ticket, which is not reopened or acknowledged.
            decision = ThreadDecision("append", survey_ticket, "survey answer")
    warnings = [*parsed.warnings, *own_warnings]
    if decision.action == "new":
        routed = prepared.route if prepared and channel == "email" else None
        ticket = _new_ticket(
            session,
            config=config,
            customer=customer,
            subject=parsed.subject,
            decision=routed or config.router.route(message_routing_input(parsed, channel)),
            channel=channel,
            language=parsed.language,
            account=account,
            created_at=wrote,
            now=now,
            follow_up_of=decision.follow_up_of,
            automated_reason=verdict.reason if verdict.automated else None,
            lookups=lookups,
        )
        outcome = "follow_up" if decision.follow_up_of is not None else "new_ticket"
    else:
        assert decision.ticket is not None
        ticket = decision.ticket
        outcome = "appended"
        if decision.action == "reopen":
            reopen(session, ticket, now=wrote)
            outcome = "reopened"

    message_id = _add_incoming(
        session,
        lookups,
        ticket,
        raw,
        now=now,
        created_at=arrived,
        from_name=_cut(parsed.sender.name if parsed.sender else "", 300),
        from_address=_cut(sender, 320),
        to_addresses=", ".join(a.address for a in parsed.to),
        cc_addresses=", ".join(a.address for a in parsed.cc),
        subject=_cut(parsed.subject, 1000),
        sent_at=parsed.date,
        message_id=_cut(parsed.message_id, 998) or None,
        in_reply_to=" ".join(parsed.in_reply_to) or None,
        references=" ".join(parsed.references) or None,
        body_text=parsed.text,
        new_text=parsed.new_text,
        quoted_text=parsed.quoted_text,
        signature=parsed.signature,
        body_html=parsed.html,
        content_hash=content_hash,
        automated=verdict.automated,
        parse_warnings="\n".join(warnings),
        **_source_fields(source),
    )
    stored = prepared.stored if prepared else None
    store_attachments(session, lookups, message_id, parsed, config.attachments_dir, stored)
    opened = outcome in ("new_ticket", "follow_up")
    owed_acknowledgement = opened and not verdict.automated and bool(sender)
    if lookups is not None:
        lookups.remember(
            _cut(parsed.message_id, 998) or None,
            content_hash,
            message_id,
            ticket,
            new_ticket=opened,
        )
        if pending:
            lookups.rows.add(
                MessageBodyPending,
                {"message_id": message_id, "opened": opened, "acknowledge": owed_acknowledgement},
            )

    acknowledged = False
    if owed_acknowledgement and not pending:
        acknowledged = acknowledge_new_ticket(
            session,
            config=config,
            ticket=ticket,
            customer=customer,
            parsed=parsed,
            account=account,
            received_at=wrote,
            now=now,
            lookups=lookups,
        )
    if lookups is None and config.clock is not None:  # a batch refreshes its tickets at once
        config.clock.refresh(session, ticket, now=now)
    return IngestResult(
        outcome, ticket.id, message_id, tuple(warnings), acknowledged, body_pending=pending
    )


def _add_incoming(
    session: Session,
    lookups: BatchLookups | None,
    ticket: Ticket,
    raw: bytes,
    *,
    now: datetime,
    created_at: datetime,
    **fields: Any,
) -> int:
    """Add a customer message and its raw bytes to ``ticket``; returns the message's id.

    In a batch both are rows queued for the batch's bulk insert, under a
    reserved id; otherwise ORM objects, flushed here.
    """
    if lookups is not None:
        row_id = lookups.ids(Message)
        add_message_row(
            session,
            lookups.rows,
            ticket,
            direction=Direction.IN.value,
            now=now,
            id=row_id,
            created_at=created_at,
            **fields,
        )
        lookups.rows.add(MessageRaw, {"message_id": row_id, "data": raw})
        return row_id
    message = add_message(
        session, ticket, direction=Direction.IN.value, now=now, created_at=created_at, **fields
    )
    assert message.id is not None
    session.add(MessageRaw(message_id=message.id, data=raw))
    return message.id


def quarantine_raw(
    session: Session,
    raw: bytes,
    *,
    config: IngestConfig,
    now: datetime,
    error: str,
    source: SourceRef | None = None,
    account: str | None = None,
    lookups: BatchLookups | None = None,
) -> IngestResult:
    """Keep a message the ingest failed on: raw, on a ticket of its own, with a visible warning."""
    head = parse_headers(raw)
    try:  # the same hash as a successful ingest would give, so a resync sees a duplicate
        content_hash = dedupe_hash(raw, parse_message(raw))
    except Exception:
        content_hash = dedupe_hash(raw, None)
    existing = find_duplicate(session, head.message_id, content_hash)
    if existing is not None:
        return IngestResult("duplicate", existing.ticket_id, existing.id)
    sender = head.sender.address.strip().lower() if head.sender else UNKNOWN_SENDER
    customer = _customer(session, lookups, _cut(sender, 320), "", now)
    arrived = _utc(source.internal_date if source else None) or now
    subject = head.subject or "(message could not be processed)"
    ticket = create_ticket(
        session,
        customer=customer,
        subject=_cut(subject, 1000),
        now=now,
        created_at=arrived,
        account=account or (source.account if source else None),
        tags=["ingest-error"],
        ticket_id=lookups.ids(Ticket) if lookups else None,
    )
    shown = strip_controls(raw[:200_000].decode("utf-8", "replace"))
    reason = one_line(error, limit=300)
    warning = _("this message could not be processed and is shown as raw text: {reason}").format(
        reason=reason
    )
    message_id = _add_incoming(
        session,
        lookups,
        ticket,
        raw,
        now=now,
        created_at=arrived,
        from_address=_cut(sender, 320),
        subject=_cut(subject, 1000),
        message_id=_cut(head.message_id, 998) or None,
        body_text=shown,
        new_text=shown,
        content_hash=content_hash,
        parse_warnings=warning,
        **_source_fields(source),
    )
    if lookups is not None:
        lookups.remember(
            _cut(head.message_id, 998) or None, content_hash, message_id, ticket, new_ticket=True
        )
    return IngestResult("quarantined", ticket.id, message_id, (warning,))


def ingest_contact(
    session: Session,
    *,
    config: IngestConfig,
    now: datetime,
    email: str,
    body: str,
    name: str = "",
    subject: str = "",
    channel: str = "web",
    ticket_number: int | None = None,
    received_at: datetime | None = None,
    account: str | None = None,
) -> IngestResult:
    """A message from another channel (form, chat, phone note): a new ticket or added to one.

    ``received_at`` is when the customer wrote (default ``now``): SLA clocks start there.
    A ``ticket_number`` must belong to the same customer.

    Raises:
        DeskError: the ticket does not exist or belongs to someone else.
    """
    address = email.strip().lower()
    if "@" not in address:
        raise DeskError(_("{address} is not an email address").format(address=repr(email)))
    wrote = _utc(received_at) or now
    text = strip_controls(body)
    customer = get_or_create_customer(
        session, _cut(address, 320), name=_cut(one_line(name), 300), now=now
    )
    outcome = "appended"
    if ticket_number is not None:
        ticket = get_ticket(session, ticket_number)
        if ticket.customer_id != customer.id:
            raise DeskError(
                _("ticket #{number} belongs to another customer").format(number=ticket_number)
            )
        if reopen(session, ticket, now=wrote):
            outcome = "reopened"
    else:
        title = one_line(subject) or one_line(text, limit=80)
        ticket = _new_ticket(
            session,
            config=config,
            customer=customer,
            subject=title,
            decision=config.router.route(
                RoutingInput(subject=title, text=text, sender=address, channel=channel)
            ),
            channel=channel,
            language=None,
            account=account,
            created_at=wrote,
            now=now,
            follow_up_of=None,
            automated_reason=None,
        )
        outcome = "new_ticket"
    message = add_message(
        session,
        ticket,
        direction=Direction.IN.value,
        now=now,
        created_at=wrote,
        from_name=_cut(one_line(name), 300),
        from_address=_cut(address, 320),
        subject=_cut(one_line(subject), 1000),
        sent_at=wrote,
        body_text=text,
        new_text=text,
    )
    acknowledged = False
    if outcome == "new_ticket" and not customer.blocked:
        acknowledged = acknowledge_new_ticket(
            session,
            config=config,
            ticket=ticket,
            customer=customer,
            parsed=None,
            account=account,
            received_at=wrote,
            now=now,
        )
    if config.clock is not None:
        config.clock.refresh(session, ticket, now=now)
    return IngestResult(outcome, ticket.id, message.id, (), acknowledged)


def _source_fields(source: SourceRef | None) -> dict[str, Any]:
    if source is None:
        return {}
    return {
        "source_account": source.account,
        "source_folder": _cut(source.folder, 500),
        "source_uidvalidity": source.uidvalidity,
        "source_uid": source.uid,
    }


def store_attachments(
    session: Session,
    lookups: BatchLookups | None,
    message_id: int,
    parsed: ParsedMessage,
    root: Path,
    stored: tuple[StoredFile, ...] | None = None,
) -> None:
    """Record the attachments, writing their files unless ``stored`` has them written."""
    for index, part in enumerate(parsed.attachments):
        if stored is None:
            file = StoredFile(store_blob(root, part.data), len(part.data))
        else:
            file = stored[index]
        values: dict[str, Any] = {
            "message_id": message_id,
            "filename": _cut(safe_filename(part.filename), 300),
            "content_type": _cut(part.content_type, 200) or "application/octet-stream",
            "size": file.size,
            "sha256": file.sha256,
            "content_id": _cut(part.content_id, 998) or None,
            "inline": part.inline,
        }
        if lookups is not None:
            lookups.rows.add(Attachment, values)
        else:
            session.add(Attachment(**values))


def _new_ticket(
    session: Session,
    *,
    config: IngestConfig,
    customer: Customer,
    subject: str,
    decision: RoutingDecision,
    channel: str,
    language: str | None,
    account: str | None,
    created_at: datetime,
    now: datetime,
    follow_up_of: Ticket | None,
    automated_reason: str | None,
    lookups: BatchLookups | None = None,
) -> Ticket:
    assignee_id = None
    if decision.assignee and lookups is not None and decision.assignee in lookups.agents:
        assignee_id = lookups.agents[decision.assignee]
    elif decision.assignee:
        assignee_id = get_or_create_agent(session, decision.assignee, now=now).id
    tags = list(decision.tags)
    if automated_reason is not None:
        tags.append("automated")
    fields: dict[str, Any] = {
        "subject": _cut(subject, 1000),
        "created_at": created_at,
        "channel": channel,
        "category": decision.category,
        "priority": decision.priority,
        "language": normalize_language(language),
        "account": account,
        "assignee_id": assignee_id,
        "follow_up_of_id": follow_up_of.id if follow_up_of else None,
    }
    if lookups is None:
        ticket = create_ticket(session, customer=customer, now=now, **fields)
    else:
        ticket = _batch_ticket(session, lookups, customer, **fields)
    for tag in dict.fromkeys(normalize_tag(t) for t in tags):
        # A new ticket has no tags yet: no need to look each one up first.
        assert ticket.id is not None
        if lookups is not None:
            lookups.rows.add(TicketTag, {"ticket_id": ticket.id, "tag": tag})
        else:
            session.add(TicketTag(ticket_id=ticket.id, tag=tag))
        record_event(session, ticket, "tag", now=created_at, new=tag)
    if lookups is not None and ticket.id is not None:
        lookups.new_tags[ticket.id] = list(dict.fromkeys(normalize_tag(t) for t in tags))
        lookups.opened[ticket.id] = ticket
    if decision.matched:
        record_event(
            session,
            ticket,
            "routed",
            now=created_at,
            new=decision.category,
            detail=", ".join(decision.matched),
        )
    if follow_up_of is not None:
        record_event(session, ticket, "follow_up", now=created_at, new=str(follow_up_of.id))
    return ticket


def _batch_ticket(
    session: Session,
    lookups: BatchLookups,
    customer: Customer,
    *,
    created_at: datetime,
    channel: str,
    priority: str,
    **fields: Any,
) -> Ticket:
    """:func:`create_ticket` for a batch: the same row and "created" event, built faster.

    The ticket takes a reserved id, is built by :func:`new_object` and held by
    the batch's collector, which writes it with the batch's rows
    (:func:`cs_console.desk.ingest_batch.flush_batch`).
    """
    check_priority(priority)
    ticket = new_object(
        Ticket,
        {
            "id": lookups.ids(Ticket),
            "customer_id": customer.id,
            "status": Status.NEW.value,
            "priority": priority,
            "channel": channel,
            "created_at": created_at,
            "updated_at": created_at,
            **fields,
        },
    )
    lookups.rows.hold(ticket)
    record_event(session, ticket, "created", now=created_at, new=channel)
    return ticket


def acknowledgement_may_be_due(
    config: IngestConfig, *, received_at: datetime, now: datetime
) -> bool:
    """Whether acknowledgements are on and a message written at ``received_at`` is recent enough.

    The checks that need no database, for a caller about to load the ticket and customer.
    """
    settings = config.autoreply
    if not settings.enabled or config.calendars is None:
        return False
    return now - received_at <= settings.max_age_delta


def acknowledge_new_ticket(
    session: Session,
    *,
    config: IngestConfig,
    ticket: Ticket,
    customer: Customer,
    parsed: ParsedMessage | None,
    account: str | None,
    received_at: datetime,
    now: datetime,
    lookups: BatchLookups | None = None,
) -> bool:
    """Queue the acknowledgement of a new ticket, unless it is not due; True when queued."""
    settings = config.autoreply
    if not acknowledgement_may_be_due(config, received_at=received_at, now=now):
        return False
    calendars = config.calendars
    assert calendars is not None  # acknowledgement_may_be_due said no without them
    if customer.blocked:
        return False
    if customer.email in config.own_addresses or customer.email == UNKNOWN_SENDER:
        return False
    account_name = account or config.default_account
    account_settings = config.accounts.get(account_name or "")
    if account_settings is None:
        return False
    assert customer.id is not None
    if lookups is not None and customer.id in lookups.acknowledged:
        return False  # this batch's rows are not flushed yet: remember instead of asking
    if recently_acknowledged(session, customer.id, since=now - settings.period_delta):
        return False
    if settings.language == "auto":
        language = ticket.language or config.shop_language
    else:
        language = settings.language
    assert ticket.id is not None
    if lookups is not None and ticket.id in lookups.new_tags:
        tags = lookups.new_tags[ticket.id]
    else:
        tags = tags_of(session, ticket.id)
    expected = expected_answer(
        config.sla,
        calendars,
        priority=ticket.priority,
        category=ticket.category,
        channel=ticket.channel,
        tags=tags,
        received_at=received_at,
    )
    ack = build_acknowledgement(
        settings=settings,
        ticket=ticket,
        customer=customer,
        shop_name=config.shop_name,
        from_address=account_settings.address,
        from_name=account_settings.display_name,
        language=language,
        expected=expected,
        business=calendars.business,
        received_at=received_at,
        now=now,
        in_reply_to=parsed.message_id if parsed else None,
        references=list(parsed.references) if parsed else [],
        original_subject=parsed.subject if parsed else ticket.subject,
    )
    if lookups is not None:
        lookups.acknowledged.add(customer.id)
    enqueue_acknowledgement(session, ack, ticket=ticket, account=account_settings.name, now=now)
    record_event(
        session,
        ticket,
        "auto_reply",
        now=now,
        new="out_of_hours" if ack.out_of_hours else "acknowledgement",
        detail=f"expected answer {ack.expected.isoformat()}",
    )
    return True
