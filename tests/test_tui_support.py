"""A small seeded workspace for the queue and console tests (no tests here)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from cs_console.config import Settings
from cs_console.desk import tickets
from cs_console.store.engine import session_scope
from cs_console.store.models import Attachment, Ticket
from cs_console.tui.app import ConsoleApp


async def settle(pilot: Any) -> None:
    """Let the app finish what it started: every worker, then a refresh.

    Workers started while waiting are waited for too. A worker that ended
    cancelled (an exclusive worker replaced by a newer one, e.g. a second poll)
    counts as finished: ``WorkerManager.wait_for_complete`` would raise for it.
    """
    app = pilot.app
    await pilot.pause()
    for _ in range(100):
        running = [worker for worker in app.workers if not worker.is_finished]
        if not running:
            break
        await asyncio.gather(*(worker.wait() for worker in running), return_exceptions=True)
    await pilot.pause()


HOSTILE_SUBJECT = "[bold red]x[/] \x1b]8;;http://evil\x07link\x1b]8;;\x07 \x1b[31mred\u202eabc"
HOSTILE_NAME = "[link=http://evil]Mallory[/link] \x1b[2J\u202eeve"
HOSTILE_BODY = "Hello [bold]there[/bold] \x1b]52;c;ZXZpbA==\x07 [link=http://x]click[/link]\x9b31m"


def seed(engine: Engine, now: datetime, *, agent_name: str = "ana") -> dict[str, int]:
    """Seed customers, tickets with conversations, and varied SLA states.

    Returns ids by role: ``breached``, ``soon``, ``later``, ``nodue``, ``pending``,
    ``mine``, ``solved`` (a past ticket of the first customer), ``hostile``.
    """
    ids: dict[str, int] = {}
    with session_scope(engine) as s:
        me = tickets.get_or_create_agent(s, agent_name, now=now, display_name="Ana")
        bob = tickets.get_or_create_agent(s, "bob", now=now)
        lucia = tickets.get_or_create_customer(s, "lucia@example.com", name="Lucía Pérez", now=now)
        tom = tickets.get_or_create_customer(s, "tom@example.org", name="Tom Baker", now=now)
        evil = tickets.get_or_create_customer(s, "evil@example.net", name=HOSTILE_NAME, now=now)

        def make(
            role: str,
            customer,
            subject: str,
            *,
            due: timedelta | None,
            breached=False,
            category="order_status",
            priority="normal",
            age=timedelta(hours=3),
            **kw,
        ) -> Ticket:
            t = tickets.create_ticket(
                s,
                customer=customer,
                subject=subject,
                now=now,
                created_at=now - age,
                category=category,
                priority=priority,
                language="es",
            )
            t.sla_due_at = now + due if due is not None else None
            t.first_reply_due = t.sla_due_at
            t.sla_breached = breached
            for key, value in kw.items():
                setattr(t, key, value)
            s.add(t)
            s.flush()
            ids[role] = t.id
            return t

        solved = make(
            "solved",
            lucia,
            "Old order question",
            due=None,
            status="solved",
            age=timedelta(days=30),
            solved_at=now - timedelta(days=29),
            first_reply_at=now - timedelta(days=30) + timedelta(hours=2),
        )
        solved.sla_due_at = None
        t = make(
            "breached",
            lucia,
            "¿Dónde está mi pedido 1234?",
            due=timedelta(minutes=-20),
            breached=True,
            priority="high",
        )
        tickets.add_message(
            s,
            t,
            direction="in",
            now=now,
            created_at=now - timedelta(hours=3),
            from_name="Lucía Pérez",
            from_address="lucia@example.com",
            subject=t.subject,
            body_text="Hola, mi pedido 1234 no ha llegado.\n> old quote\n-- \nLucía",
            new_text="Hola, mi pedido 1234 no ha llegado.",
            quoted_text="> old quote",
            signature="Lucía",
        )
        m = tickets.add_message(
            s,
            t,
            direction="note",
            now=now,
            created_at=now - timedelta(hours=2),
            agent_id=bob.id,
            body_text="Checked with the carrier",
            new_text="Checked with the carrier",
        )
        s.add(
            Attachment(
                message_id=m.id,
                filename="label.pdf",
                content_type="application/pdf",
                size=1234,
                sha256="ab" * 32,
            )
        )
        make(
            "soon", tom, "Refund for returned shoes", due=timedelta(minutes=30), category="returns"
        )
        make(
            "later",
            tom,
            "Question about sizes",
            due=timedelta(hours=5),
            category="product_question",
            assignee_id=me.id,
        )
        ids["mine"] = ids["later"]
        make("nodue", lucia, "Thanks!", due=None, category="other")
        make(
            "pending",
            tom,
            "Waiting for photos",
            due=timedelta(hours=30),
            status="pending",
            category="returns",
        )
        h = make("hostile", evil, HOSTILE_SUBJECT, due=timedelta(hours=2), category="payment")
        tickets.add_message(
            s,
            h,
            direction="in",
            now=now,
            from_name=HOSTILE_NAME,
            from_address="evil@example.net",
            subject=HOSTILE_SUBJECT,
            body_text=HOSTILE_BODY,
            new_text=HOSTILE_BODY,
        )
        ids["agent"] = me.id
    return ids


def console_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings for a console test: one account, agent ``ana``, data under ``tmp_path``."""
    data = {
        "shop": {"name": "Tienda Uno", "language": "es"},
        "agent": {"name": "ana", "display_name": "Ana"},
        "storage": {"data_dir": str(tmp_path / "data")},
        "accounts": [
            {
                "name": "shop",
                "address": "hola@tienda.example",
                "imap_host": "127.0.0.1",
                "imap_security": "none",
                "smtp_security": "none",
                "smtp_port": 1,
                "username": "hola",
            }
        ],
    }
    data.update(overrides)
    return Settings.model_validate(data)


def make_app(settings: Settings, engine: Engine, now: datetime, **kw: object) -> ConsoleApp:
    """A console on a fixed clock, no outbox sending, slow polling, no watcher (tests poll by hand)."""
    options: dict[str, object] = {
        "now_fn": lambda: now,
        "send_outbox": False,
        "sync_mail": False,
        "poll_seconds": 3600.0,
        "watch_changes": False,  # a worker that never completes; tests that want it ask
        "tick_seconds": 3600.0,
    }
    options.update(kw)
    return ConsoleApp(settings, engine, **options)  # type: ignore[arg-type]
