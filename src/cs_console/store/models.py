"""The tables.

Status, priority, direction and the like are stored as short strings (the
``StrEnum`` values below) so migrations stay simple and reports readable.
Times are aware UTC (:class:`~cs_console.store.types.UTCDateTime`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# The tables' vocabulary, re-exported for the code that imports it from here.
from cs_console.store.enums import DEFAULT_CATEGORIES as DEFAULT_CATEGORIES
from cs_console.store.enums import OPEN_STATUSES as OPEN_STATUSES
from cs_console.store.enums import Direction as Direction
from cs_console.store.enums import OutboxStatus as OutboxStatus
from cs_console.store.enums import Priority as Priority
from cs_console.store.enums import Status as Status
from cs_console.store.types import UTCDateTime


def _time(*, nullable: bool = True, index: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class Agent(SQLModel, table=True):
    """A person who answers tickets."""

    __tablename__ = "agent"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=120)
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    active: bool = True
    created_at: datetime = Field(sa_column=_time(nullable=False))


class Customer(SQLModel, table=True):
    """Someone who writes to the shop, known by address."""

    __tablename__ = "customer"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, max_length=320)  # lowercased
    name: str = Field(default="", max_length=300)
    blocked: bool = False
    created_at: datetime = Field(sa_column=_time(nullable=False))


class Ticket(SQLModel, table=True):
    """A customer's case; its id is the number customers see (``[#123]``)."""

    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_queue", "status", "sla_breached", "sla_due_at", "id"),
        Index("ix_ticket_customer", "customer_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(default="", max_length=1000)
    customer_id: int = Field(foreign_key="customer.id")
    status: str = Field(default=Status.NEW.value, max_length=16, index=True)
    priority: str = Field(default=Priority.NORMAL.value, max_length=16)
    category: str = Field(default="other", max_length=64)
    channel: str = Field(default="email", max_length=64)
    language: str | None = Field(default=None, max_length=8)
    account: str | None = Field(default=None, max_length=64)  # the mail account it came in on
    assignee_id: int | None = Field(default=None, foreign_key="agent.id", index=True)
    created_at: datetime = Field(sa_column=_time(nullable=False))  # when the customer wrote
    updated_at: datetime = Field(sa_column=_time(nullable=False, index=True))  # last activity
    first_reply_at: datetime | None = Field(default=None, sa_column=_time())
    last_customer_at: datetime | None = Field(default=None, sa_column=_time())
    last_agent_at: datetime | None = Field(default=None, sa_column=_time())
    solved_at: datetime | None = Field(default=None, sa_column=_time())
    closed_at: datetime | None = Field(default=None, sa_column=_time())
    # Cached SLA state for ordering the queue; recomputed on every change.
    first_reply_due: datetime | None = Field(default=None, sa_column=_time())
    next_reply_due: datetime | None = Field(default=None, sa_column=_time())
    resolution_due: datetime | None = Field(default=None, sa_column=_time())
    sla_due_at: datetime | None = Field(default=None, sa_column=_time())  # earliest running due
    sla_breached: bool = False
    unread: bool = True
    merged_into_id: int | None = Field(default=None, foreign_key="ticket.id")
    follow_up_of_id: int | None = Field(default=None, foreign_key="ticket.id")
    version: int = 1  # bumped on every change, for collision checks


class TicketTag(SQLModel, table=True):
    """A tag on a ticket."""

    __tablename__ = "ticket_tag"

    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    tag: str = Field(primary_key=True, max_length=64, index=True)


class Message(SQLModel, table=True):
    """One message of a ticket's conversation: from the customer, to them, or a note."""

    __tablename__ = "message"
    __table_args__ = (
        # A message in a mailbox is ingested once: this makes double ingestion impossible.
        UniqueConstraint(
            "source_account",
            "source_folder",
            "source_uidvalidity",
            "source_uid",
            name="uq_message_source",
        ),
        # Message-ID alone is not unique (senders reuse them); with the content hash it is
        # how the same mail arriving twice (two folders, a UIDVALIDITY reset) is recognised.
        Index("ix_message_mid_hash", "message_id", "content_hash"),
        Index("ix_message_ticket", "ticket_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    direction: str = Field(max_length=8)
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    from_name: str = Field(default="", max_length=300)
    from_address: str = Field(default="", max_length=320)
    to_addresses: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    cc_addresses: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    subject: str = Field(default="", max_length=1000)
    sent_at: datetime | None = Field(default=None, sa_column=_time())  # the Date header
    created_at: datetime = Field(sa_column=_time(nullable=False))  # when it reached us
    message_id: str | None = Field(default=None, max_length=998)
    in_reply_to: str | None = Field(default=None, sa_column=Column(Text))
    references: str | None = Field(default=None, sa_column=Column(Text))
    body_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    new_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    quoted_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    signature: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    body_html: str | None = Field(default=None, sa_column=Column(Text))
    content_hash: str | None = Field(default=None, max_length=64)
    automated: bool = False  # auto-reply, bounce, list mail
    parse_warnings: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    source_account: str | None = Field(default=None, max_length=64)
    source_folder: str | None = Field(default=None, max_length=500)
    source_uidvalidity: int | None = None
    source_uid: int | None = None


class MessageRaw(SQLModel, table=True):
    """The raw RFC 822 bytes of a message, kept so it can be parsed again."""

    __tablename__ = "message_raw"

    message_id: int = Field(foreign_key="message.id", primary_key=True)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class MessageBodyPending(SQLModel, table=True):
    """A synced message stored from its headers whose body is still to be read.

    A large first sync records each message (its ticket, headers and raw
    bytes) in the transaction that moves the folder's state past it, and reads
    the bodies afterwards (:mod:`cs_console.desk.sync_bodies`); this row says
    what is left to do for one message and goes away in the transaction that
    does it. ``opened`` marks the message that opened its ticket, whose
    routing waits for the body; ``acknowledge`` that the customer is owed an
    acknowledgement once the ticket is routed.
    """

    __tablename__ = "message_body_pending"

    message_id: int = Field(foreign_key="message.id", primary_key=True)
    opened: bool = False
    acknowledge: bool = False


class Attachment(SQLModel, table=True):
    """A file that came with a message; the bytes live on disk by content hash."""

    __tablename__ = "attachment"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    filename: str = Field(max_length=300)  # already safe: no separators, no controls
    content_type: str = Field(default="application/octet-stream", max_length=200)
    size: int = 0
    sha256: str = Field(max_length=64, index=True)
    content_id: str | None = Field(default=None, max_length=998)
    inline: bool = False


class TicketEvent(SQLModel, table=True):
    """One change to a ticket, for its history and for metrics."""

    __tablename__ = "ticket_event"
    __table_args__ = (Index("ix_event_ticket", "ticket_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    at: datetime = Field(sa_column=_time(nullable=False, index=True))
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    kind: str = Field(max_length=32)  # created, status, priority, category, assign, tag, ...
    old_value: str | None = Field(default=None, max_length=500)
    new_value: str | None = Field(default=None, max_length=500)
    detail: str | None = Field(default=None, sa_column=Column(Text))


class CannedAnswerRow(SQLModel, table=True):
    """A canned answer imported from the library folder, for search and counting."""

    __tablename__ = "canned_answer"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, max_length=200)
    title: str = Field(max_length=300)
    language: str = Field(default="en", max_length=8)
    category: str = Field(default="other", max_length=64)
    tags: str = Field(default="", max_length=1000)
    keywords: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    public: bool = False
    set_status: str | None = Field(default=None, max_length=16)
    updated_at: datetime = Field(sa_column=_time(nullable=False))


class CannedAnswerUse(SQLModel, table=True):
    """One use of a canned answer in a reply."""

    __tablename__ = "canned_answer_use"

    id: int | None = Field(default=None, primary_key=True)
    answer_id: int = Field(foreign_key="canned_answer.id", index=True)
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    used_at: datetime = Field(sa_column=_time(nullable=False))


class OutboxItem(SQLModel, table=True):
    """A message waiting to leave, or that left; deleted never, marked sent when accepted."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    message_row_id: int | None = Field(default=None, foreign_key="message.id")
    account: str = Field(max_length=64)
    kind: str = Field(default="reply", max_length=16)  # reply, auto_reply, survey, outreach
    message_id: str = Field(max_length=998, unique=True)  # the header, fixed before sending
    mail_from: str = Field(max_length=320)
    rcpt_to: str = Field(sa_column=Column(Text, nullable=False))  # JSON list
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = Field(default=OutboxStatus.QUEUED.value, max_length=16)
    created_at: datetime = Field(sa_column=_time(nullable=False))
    not_before: datetime = Field(sa_column=_time(nullable=False))  # undo window, retry backoff
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    sent_at: datetime | None = Field(default=None, sa_column=_time())
    sent_copy_saved: bool = False
    agent_id: int | None = Field(default=None, foreign_key="agent.id")


class FolderState(SQLModel, table=True):
    """Sync position of one IMAP folder of one account."""

    __tablename__ = "folder_state"
    __table_args__ = (UniqueConstraint("account", "folder", name="uq_folder_state"),)

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=64)
    folder: str = Field(max_length=500)
    uidvalidity: int | None = None
    last_uid: int = 0
    highest_modseq: int | None = None
    last_attempt_at: datetime | None = Field(default=None, sa_column=_time())
    last_success_at: datetime | None = Field(default=None, sa_column=_time())
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    consecutive_failures: int = 0
    #: UIDs stored but not yet marked seen or moved on the server (an IMAP sequence
    #: set such as ``"4:9,12"``); the next sync of the folder does it.
    after_ingest_pending: str | None = Field(default=None, sa_column=Column(Text))


class Draft(SQLModel, table=True):
    """A reply or note being written, saved as the agent types."""

    __tablename__ = "draft"
    __table_args__ = (UniqueConstraint("ticket_id", "agent_id", "kind", name="uq_draft"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    kind: str = Field(default="reply", max_length=8)  # reply or note
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    started_at: datetime = Field(sa_column=_time(nullable=False))
    ticket_version: int = 0  # the ticket's version when the draft began
    updated_at: datetime = Field(sa_column=_time(nullable=False))


class Survey(SQLModel, table=True):
    """A satisfaction survey sent after a ticket was solved, and its answer."""

    __tablename__ = "survey"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True, unique=True)  # one per ticket
    kind: str = Field(default="csat", max_length=8)  # csat (1-5) or nps (0-10)
    token: str = Field(unique=True, max_length=64)
    sent_at: datetime | None = Field(default=None, sa_column=_time())
    score: int | None = None
    comment: str | None = Field(default=None, sa_column=Column(Text))
    answered_at: datetime | None = Field(default=None, sa_column=_time())


class Lease(SQLModel, table=True):
    """Who holds a shared job (an account's syncer, the outbox sender), until when."""

    __tablename__ = "lease"

    name: str = Field(primary_key=True, max_length=200)
    holder: str = Field(max_length=200)
    expires_at: datetime = Field(sa_column=_time(nullable=False))


class Presence(SQLModel, table=True):
    """An agent viewing or replying to a ticket; expires without heartbeats."""

    __tablename__ = "presence"

    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", primary_key=True)
    activity: str = Field(default="viewing", max_length=16)
    heartbeat_at: datetime = Field(sa_column=_time(nullable=False))


class ExportCursor(SQLModel, table=True):
    """Where the last successful incremental export to an output stopped."""

    __tablename__ = "export_cursor"

    output: str = Field(primary_key=True, max_length=1000)
    exported_until: datetime = Field(sa_column=_time(nullable=False))
