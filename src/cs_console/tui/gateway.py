"""What the console asks of the desk, as plain blocking calls for thread workers.

Each method opens its own short session; none is ever called on the event loop.
Nothing here imports textual, so the same calls are easy to test on their own.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from cs_console.config import Settings
from cs_console.desk import drafts, queue, ticket_view, tickets
from cs_console.desk.queue import QueueFilter, QueueKey, QueueRow
from cs_console.errors import DeskError
from cs_console.i18n import _
from cs_console.store.attachments import stored_blob_path
from cs_console.store.engine import session_scope
from cs_console.store.models import Agent, Ticket
from cs_console.textsafe import safe_filename

__all__ = ["DeskGateway", "FailedItem", "SaveResult", "greeting", "signature"]

_GREETINGS = {"es": "Hola {name},", "en": "Hi {name},"}
_GREETINGS_NO_NAME = {"es": "Hola,", "en": "Hello,"}


def greeting(language: str, first_name: str) -> str:
    """The reply's first line in the ticket's language (``Hola Lucía,`` / ``Hi Tom,``)."""
    lang = language if language in _GREETINGS else "en"
    if not first_name:
        return _GREETINGS_NO_NAME[lang]
    return _GREETINGS[lang].format(name=first_name)


_GREETING_START = re.compile(
    r"^\s*(hola|hi|hello|dear|buenos d[ií]as|buenas( tardes| noches)?|estimad[oa]s?)\b",
    re.IGNORECASE,
)


def without_repeated_greeting(current: str, answer: str) -> str:
    """The answer to insert, minus its greeting line when the reply already opens with one."""
    first, _, rest = answer.partition("\n")
    greeting_only = first.rstrip().endswith((",", ":", "!")) and len(first.split()) <= 6
    if greeting_only and _GREETING_START.match(first) and _GREETING_START.match(current):
        return rest.lstrip("\n")
    return answer


def signature(settings: Settings) -> str:
    """The agent's signature: their name and the shop's."""
    name = settings.agent.display_name or settings.agent.name
    return f"--\n{name}\n{settings.shop.name}"


@dataclass(frozen=True)
class SaveResult:
    path: Path


@dataclass(frozen=True)
class FailedItem:
    """An outbox item that could not be sent, as the console lists it."""

    id: int
    ticket_id: int | None
    kind: str
    to: str
    attempts: int
    error: str
    created_at: datetime


def _recipients(value: str) -> list[str]:
    try:
        loaded = json.loads(value)
    except ValueError:
        return [value]
    return [str(v) for v in loaded] if isinstance(loaded, list) else [str(loaded)]


class DeskGateway:
    """Blocking desk operations for the console's thread workers."""

    def __init__(
        self, settings: Settings, engine: Engine, *, now_fn: Callable[[], datetime]
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.now_fn = now_fn
        self._agent: tuple[int, str] | None = None
        self._lock = threading.Lock()
        self._canned: Any = None
        self._drainer: Any = None

    # -- who

    def agent(self) -> tuple[int, str]:
        """The console user's agent (id, shown name), created on first use."""
        with self._lock:
            if self._agent is None:
                from cs_console.desk.replies import current_agent

                with session_scope(self.engine) as s:
                    agent = current_agent(s, self.settings, now=self.now_fn())
                    assert agent.id is not None
                    self._agent = (agent.id, agent.display_name or agent.name)
            return self._agent

    def agents(self) -> list[tuple[int, str]]:
        with session_scope(self.engine) as s:
            rows = s.exec(select(Agent).where(col(Agent.active)).order_by(col(Agent.name))).all()
            return [(a.id or 0, a.display_name or a.name) for a in rows]

    # -- queue

    def page(
        self, flt: QueueFilter, *, after: QueueKey | None = None, limit: int = 150
    ) -> list[QueueRow]:
        with session_scope(self.engine) as s:
            return queue.fetch_page(s, flt, now=self.now_fn(), after=after, limit=limit)

    def marker(self) -> tuple[Any, ...]:
        with session_scope(self.engine) as s:
            return queue.change_marker(s)

    def status(self) -> queue.DeskStatus:
        with session_scope(self.engine) as s:
            return queue.desk_status(s, accounts=[a.name for a in self.settings.accounts])

    def mark_breaches(self) -> int:
        """Flag tickets whose due time passed and apply escalation rules; how many changed."""
        from cs_console.desk.ticket_sla import TicketClock, apply_escalations, mark_breaches

        now = self.now_fn()
        with session_scope(self.engine) as s:
            flagged = mark_breaches(s, now=now)
            escalated = apply_escalations(s, TicketClock(self.settings), now=now)
        return flagged + escalated

    def categories(self) -> list[str]:
        return tickets.known_categories()

    def take_next(self) -> int | None:
        """Claim the most urgent unassigned ticket for this agent; its number, or None."""
        from cs_console.desk.claim import take_next

        return take_next(self.engine, self.settings.agent.name, now=self.now_fn())

    # -- ticket

    def ticket(self, ticket_id: int, *, mark_read: bool = True) -> ticket_view.TicketView:
        with session_scope(self.engine) as s:
            view = ticket_view.load_ticket_view(s, ticket_id)
            if mark_read:
                ticket_view.mark_read(s, ticket_id)
            return view

    def change(self, ticket_id: int, what: str, value: Any) -> bool:
        """Apply one change (status, priority, category, assign, tag, untag, merge, spam)."""
        agent_id = self.agent()[0]
        now = self.now_fn()
        with session_scope(self.engine) as s:
            ticket = tickets.get_ticket(s, ticket_id)
            if what == "status":
                return tickets.set_status(s, ticket, value, now=now, agent_id=agent_id)
            if what == "priority":
                return tickets.set_priority(s, ticket, value, now=now, agent_id=agent_id)
            if what == "category":
                return tickets.set_category(s, ticket, value, now=now, agent_id=agent_id)
            if what == "assign":
                agent = s.get(Agent, value) if value else None
                return tickets.assign(s, ticket, agent, now=now, agent_id=agent_id)
            if what == "tags":
                return self._set_tags(s, ticket, value, now=now, agent_id=agent_id)
            if what == "merge":
                ticket_view.merge_ticket(s, ticket_id, int(value), now=now, agent_id=agent_id)
                return True
            if what == "spam":
                ticket_view.mark_spam(s, ticket_id, now=now, agent_id=agent_id)
                return True
        raise DeskError(f"unknown change {what!r}")

    @staticmethod
    def _set_tags(
        s: Any, ticket: Ticket, wanted: Sequence[str], *, now: datetime, agent_id: int
    ) -> bool:
        assert ticket.id is not None
        current = set(tickets.tags_of(s, ticket.id))
        target = {tickets.normalize_tag(t) for t in wanted if t.strip()}
        changed = False
        for tag in sorted(current - target):
            changed |= tickets.remove_tag(s, ticket, tag, now=now, agent_id=agent_id)
        for tag in sorted(target - current):
            changed |= tickets.add_tag(s, ticket, tag, now=now, agent_id=agent_id)
        return changed

    def presence(self, ticket_id: int, activity: str | None) -> list[Any]:
        """Say this agent is on the ticket (``None``: left it); who else is there."""
        from cs_console.desk import presence

        agent_id = self.agent()[0]
        now = self.now_fn()
        with session_scope(self.engine) as s:
            if activity is None:
                presence.leave(s, ticket_id, agent_id)
                return []
            presence.heartbeat(s, ticket_id, agent_id, activity=activity, now=now)
            return presence.others_on(s, [ticket_id], me=agent_id, now=now).get(ticket_id, [])

    def changes_since(self, ticket_id: int, since: datetime) -> list[Any]:
        """Messages by the customer or other agents after ``since`` (a collision check)."""
        from cs_console.desk.collisions import changes_since

        agent_id = self.agent()[0]
        with session_scope(self.engine) as s:
            return changes_since(s, ticket_id, since=since, agent_id=agent_id)

    # -- attachments

    def attachment_source(self, sha256: str) -> Path:
        return stored_blob_path(self.settings.attachments_dir, sha256)

    def save_attachment(self, sha256: str, filename: str, folder: Path) -> Path:
        """Copy an attachment into ``folder`` under a safe name that stays inside it.

        Raises:
            DeskError: the folder or the stored file is missing.
        """
        folder = folder.expanduser()
        if not folder.is_dir():
            raise DeskError(_("{folder} is not a folder").format(folder=folder))
        source = self.attachment_source(sha256)
        if not source.is_file():
            raise DeskError(
                _("the file {name} is not in the attachment store").format(name=repr(filename))
            )
        name = safe_filename(filename)
        target = (folder / name).resolve()
        if target.parent != folder.resolve():
            raise DeskError(_("refusing to write outside the chosen folder"))
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        n = 1
        while target.exists():
            target = folder.resolve() / (f"{stem} ({n}).{ext}" if ext else f"{stem} ({n})")
            n += 1
        shutil.copyfile(source, target)
        target.chmod(0o600)
        return target

    # -- drafts and replies

    def load_draft(self, ticket_id: int, kind: str) -> drafts.DraftInfo | None:
        agent_id = self.agent()[0]
        with session_scope(self.engine) as s:
            return drafts.load_draft(s, ticket_id=ticket_id, agent_id=agent_id, kind=kind)

    def save_draft(self, ticket_id: int, kind: str, body: str, *, ticket_version: int) -> None:
        agent_id = self.agent()[0]
        with session_scope(self.engine) as s:
            drafts.save_draft(
                s,
                ticket_id=ticket_id,
                agent_id=agent_id,
                kind=kind,
                body=body,
                now=self.now_fn(),
                ticket_version=ticket_version,
            )

    def reply(
        self, ticket_id: int, body: str, *, status: str | None, canned: Sequence[str] = ()
    ) -> Any:
        """Queue a reply (sent after the undo window); returns the outbox's ReplyResult.

        Args:
            canned: Slugs of the canned answers the reply used; each use is counted
                in the reply's transaction, so a reply that fails counts nothing.
        """
        from cs_console.desk.canned.store import record_use
        from cs_console.desk.replies import reply_to_ticket

        now = self.now_fn()
        with session_scope(self.engine) as s:
            agent = s.get(Agent, self.agent()[0])
            result = reply_to_ticket(
                s, self.settings, ticket_id, body, now=now, status=status, agent=agent
            )
            by_slug = {a.slug: a for a in self.canned()[0]}
            for slug in dict.fromkeys(canned):
                record_use(
                    s,
                    slug,
                    agent_id=agent.id if agent else None,
                    ticket_id=ticket_id,
                    now=now,
                    answer=by_slug.get(slug),
                )
            return result

    def note(self, ticket_id: int, body: str) -> None:
        from cs_console.desk.replies import add_note

        with session_scope(self.engine) as s:
            agent = s.get(Agent, self.agent()[0])
            add_note(s, self.settings, ticket_id, body, now=self.now_fn(), agent=agent)

    def undo(self, outbox_id: int) -> str:
        """Pull a reply back; returns its text (also saved as the draft)."""
        from cs_console.desk.outbox import undo_send
        from cs_console.desk.ticket_sla import TicketClock

        with session_scope(self.engine) as s:
            clock = TicketClock(self.settings)
            return undo_send(s, outbox_id, now=self.now_fn(), clock=clock).body

    def failed_outbox(self, *, limit: int = 200) -> list[FailedItem]:
        """Outbox items that could not be sent, newest first, with the server's answer."""
        from cs_console.store.models import OutboxItem, OutboxStatus

        with session_scope(self.engine) as s:
            rows = s.exec(
                select(OutboxItem)
                .where(OutboxItem.status == OutboxStatus.FAILED.value)
                .order_by(col(OutboxItem.created_at).desc(), col(OutboxItem.id).desc())
                .limit(limit)
            ).all()
            return [
                FailedItem(
                    id=r.id or 0,
                    ticket_id=r.ticket_id,
                    kind=r.kind,
                    to=", ".join(_recipients(r.rcpt_to)),
                    attempts=r.attempts,
                    error=r.last_error or "",
                    created_at=r.created_at,
                )
                for r in rows
            ]

    def retry_outbox(self, item_id: int) -> None:
        """Queue a failed item again (the sender picks it up on its next pass)."""
        from cs_console.desk.outbox import requeue_failed

        with session_scope(self.engine) as s:
            requeue_failed(s, item_id, now=self.now_fn())

    def dashboard(self, *, days: int = 7) -> Any:
        """The dashboard's figures: the last ``days`` days, by agent (a MetricsReport)."""
        from cs_console.desk.metrics import dashboard_report

        with session_scope(self.engine) as s:
            return dashboard_report(s, self.settings, now=self.now_fn(), days=days)

    def drain_outbox(self) -> Any:
        """One pass of the outbox sender (runs its own event loop in this thread)."""
        from cs_console.desk.outbox import OutboxDrainer

        if self._drainer is None:
            self._drainer = OutboxDrainer(self.settings, self.engine, now_fn=self.now_fn)
        return asyncio.run(self._drainer.drain())

    def sync(self, account: str) -> Any:
        """Fetch new mail of one account (None when another run holds its lock)."""
        from cs_console.desk.sync import sync_account

        report = sync_account(
            self.settings, self.engine, self.settings.account(account), now_fn=self.now_fn
        )
        return None if report.locked else report

    # -- canned answers and writing hints

    def load_canned(self) -> tuple[list[Any], Any]:
        """Import the shop's library on first use, then read its answers (again).

        The first call seeds and imports the library folder when the table holds
        no answer yet; the starter set is the fallback of an empty library.
        """
        from cs_console.desk.canned import SuggestionIndex, starter_answers
        from cs_console.desk.canned.store import answers_for, ensure_library

        with session_scope(self.engine) as s:
            ensure_library(s, self.settings, now=self.now_fn())
            answers = answers_for(s) or starter_answers()
        loaded = (answers, SuggestionIndex(answers))
        with self._lock:
            self._canned = loaded
        return loaded

    def canned(self) -> tuple[list[Any], Any]:
        """The shop's canned answers and a suggestion index over them (loaded once)."""
        if self._canned is None:
            return self.load_canned()
        return self._canned  # type: ignore[no-any-return]

    def suggestions(self, view: ticket_view.TicketView) -> list[Any]:
        index = self.canned()[1]
        last = view.last_customer_message
        text = view.subject + "\n" + (last.new_text if last else "")
        return [s.answer for s in index.suggest(text, language=view.language, limit=5)]

    def render_canned(
        self, body: str, view: ticket_view.TicketView, *, language: str | None = None
    ) -> Any:
        """Fill a canned answer's variables for the ticket (the answer's ``language``)."""
        from cs_console.desk.canned import render
        from cs_console.desk.canned.variables import ticket_variables

        agent_id = self.agent()[0]
        with session_scope(self.engine) as s:
            ticket = tickets.get_ticket(s, view.id)
            variables = ticket_variables(
                s,
                self.settings,
                ticket,
                agent=s.get(Agent, agent_id),
                now=self.now_fn(),
                language=language,
            )
        return render(body, variables)

    def hints(self, text: str, view: ticket_view.TicketView) -> list[Any]:
        from cs_console.desk.writing import lint_reply

        last = view.last_customer_message
        return lint_reply(
            text,
            language=view.language or self.settings.shop.language,
            customer_message=last.new_text if last else None,
            customer_name=view.customer.first_name or None,
            settings=self.settings.writing.to_settings(),
        )
