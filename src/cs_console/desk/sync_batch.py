"""One batch of a folder's sync, stored in the transaction that moves the folder's state past it.

:func:`ingest_batch` is the exactly-once step of :mod:`cs_console.desk.sync`:
the batch's messages, their tickets and the folder's ``last_uid`` commit
together, so a sync killed at any moment either stored a batch and moved past
it, or did neither. It also keeps one bad message from stopping the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from cs_console.config import AccountSettings
from cs_console.desk.batch_sla import evaluate_new_tickets
from cs_console.desk.ingest import (
    IngestConfig,
    SourceRef,
    ingest_raw,
    quarantine_raw,
    written_at,
)
from cs_console.desk.ingest_batch import BatchLookups, flush_batch
from cs_console.desk.sync_parse import OwedBody, Prepared
from cs_console.desk.sync_report import FolderReport, count_outcome
from cs_console.errors import ImapError
from cs_console.i18n import _
from cs_console.mail.imap_sync import FetchedMessage, parse_uid_set, uid_set
from cs_console.store.engine import durable
from cs_console.store.models import FolderState, Message, Ticket
from cs_console.textsafe import one_line

__all__ = ["BatchDone", "ingest_batch"]

log = logging.getLogger(__name__)


@dataclass
class BatchDone:
    """What :func:`ingest_batch` committed.

    ``handled`` are the batch's UIDs now stored (or recognised); ``bodies_owed``
    the messages recorded from their headers, whose bodies are to be read
    next (:mod:`cs_console.desk.sync_bodies`).
    """

    handled: list[int] = field(default_factory=list)
    bodies_owed: list[OwedBody] = field(default_factory=list)


def ingest_batch(
    engine: Engine,
    account: AccountSettings,
    folder: str,
    uidvalidity: int,
    batch: list[int],
    fetched: list[FetchedMessage],
    prepared: list[Prepared],
    report: FolderReport,
    config: IngestConfig,
    now_fn: Callable[[], datetime],
    state_id: int | None,
    *,
    owe_after_ingest: bool = False,
) -> BatchDone:
    """Ingest one batch and move the state past it in the same transaction.

    With ``owe_after_ingest`` the same transaction records the handled UIDs as
    still to be marked seen or moved (``FolderState.after_ingest_pending``),
    so a sync stopped before doing it leaves the work to the next one.

    Messages are parsed before the transaction opens (parsing never fails and
    holds no lock). The batch's rows are written together at the end
    (:func:`flush_batch`). A message whose ingest raises rolls the batch back;
    the batch is then done again with that message kept raw on a ticket of its
    own (:func:`quarantine_raw`), so one bad message never stops the others.
    When the database refuses the batch's rows, it is done again one message
    at a time to find the one at fault.

    Messages prepared from their headers only (``Prepared.body_pending``) are
    recorded and threaded; their tickets' SLA columns wait for the body, which
    decides the routing (:mod:`cs_console.desk.sync_bodies`).
    """
    failed: dict[int, str] = {}
    integrity_retried = False
    careful = False
    while True:
        counts = FolderReport(folder=folder)
        done = BatchDone()
        handled = done.handled
        touched: set[int] = set()
        waiting: set[int] = set()  # tickets whose SLA waits for a body
        current: int | None = None
        # Mail is marked or moved on the strength of this commit: it must survive a power loss.
        bind = durable(engine) if owe_after_ingest else engine
        with Session(bind, expire_on_commit=False) as session:
            try:
                state = session.get(FolderState, state_id)
                assert state is not None
                if state.uidvalidity != uidvalidity:
                    raise ImapError(
                        _("the state of {folder} changed under this sync; run it again").format(
                            folder=repr(folder)
                        )
                    )
                known = set(
                    session.exec(
                        select(Message.source_uid).where(
                            Message.source_account == account.name,
                            Message.source_folder == folder,
                            Message.source_uidvalidity == uidvalidity,
                            col(Message.source_uid).in_(batch),
                        )
                    ).all()
                )
                now = now_fn()
                todo = []
                for item, p in zip(fetched, prepared, strict=True):
                    if item.uid in known or item.uid <= state.last_uid:
                        counts.duplicates += 1
                    else:
                        todo.append((item, p))
                earliest = min(
                    (written_at(p.parsed.date, item.internal_date or now) for item, p in todo),
                    default=now,
                )
                lookups = BatchLookups.prefetch(
                    session,
                    [(p.parsed, p.content_hash) for _, p in todo],
                    config=config,
                    earliest=earliest,
                )
                with session.no_autoflush:
                    for item, p in todo:
                        current = item.uid
                        source = SourceRef(
                            account.name, folder, uidvalidity, item.uid, item.internal_date
                        )
                        if item.uid in failed:
                            result = quarantine_raw(
                                session,
                                item.raw,
                                config=config,
                                now=now,
                                error=failed[item.uid],
                                source=source,
                                lookups=lookups,
                            )
                            counts.warnings.append(f"uid {item.uid}: {failed[item.uid]}")
                        else:
                            result = ingest_raw(
                                session,
                                item.raw,
                                config=config,
                                now=now,
                                source=source,
                                prepared=p,
                                lookups=lookups,
                            )
                        if careful:  # find which message the database refuses
                            flush_batch(session)
                        handled.append(item.uid)
                        count_outcome(counts, result.outcome, result.acknowledged)
                        if result.ticket_id is not None and result.outcome != "duplicate":
                            touched.add(result.ticket_id)
                            if result.body_pending and result.message_row_id is not None:
                                waiting.add(result.ticket_id)
                                opens = result.outcome in ("new_ticket", "follow_up")
                                body = OwedBody(result.message_row_id, item.raw, p, opens)
                                done.bodies_owed.append(body)
                    current = None
                    evaluated: set[int] = set()
                    if config.clock is not None and not careful:
                        # New tickets get their SLA columns before their INSERT: no UPDATE.
                        opened = [t for t in lookups.opened.values() if t.id not in waiting]
                        evaluated = evaluate_new_tickets(
                            session, config.clock, lookups.rows, opened, now=now
                        )
                    flush_batch(session)
                rest = sorted(touched - evaluated - waiting)
                if config.clock is not None and rest:
                    tickets = [session.get(Ticket, number) for number in rest]
                    config.clock.refresh_many(session, [t for t in tickets if t], now=now)
                state.last_uid = max(state.last_uid, max(batch))
                state.last_attempt_at = now
                if owe_after_ingest and handled:
                    owed = [*parse_uid_set(state.after_ingest_pending), *handled]
                    state.after_ingest_pending = uid_set(owed)
                session.add(state)
                session.commit()
            except IntegrityError as exc:
                # Another machine stored some of these: look again once, then treat as a failure.
                session.rollback()
                if not integrity_retried:
                    integrity_retried = True
                    continue
                if current is None and not careful:
                    careful = True
                    continue
                if current is None or current in failed:
                    raise
                failed[current] = f"{type(exc).__name__}: {one_line(str(exc.orig), limit=300)}"
                continue
            except ImapError:
                raise
            except Exception as exc:
                session.rollback()
                if current is None and not careful:
                    careful = True  # the batch's flush failed: again, one message at a time
                    continue
                if current is None or current in failed:
                    raise
                log.warning("%s/%s uid %s: ingest failed: %r", account.name, folder, current, exc)
                failed[current] = f"{type(exc).__name__}: {one_line(str(exc), limit=300)}"
                continue
        for name in ("stored", "new_tickets", "duplicates", "own", "quarantined", "acknowledged"):
            setattr(report, name, getattr(report, name) + getattr(counts, name))
        report.warnings.extend(counts.warnings)
        return done
