"""The queue queries: order, views, keyset pages, quick filter, full-text search, drafts."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from cs_console.desk import tickets
from cs_console.desk.drafts import discard_draft, load_draft, save_draft
from cs_console.desk.queue import (
    QueueFilter,
    View,
    breaching_count,
    change_marker,
    fetch_page,
    search_query_terms,
    search_ticket_ids,
)
from cs_console.desk.ticket_view import load_ticket_view, mark_read, neighbour_ids
from cs_console.store.engine import session_scope
from tests.test_tui_support import HOSTILE_NAME, seed


def _ids(engine: Engine, flt: QueueFilter, now: datetime, **kw: object) -> list[int]:
    with session_scope(engine) as s:
        return [r.id for r in fetch_page(s, flt, now=now, **kw)]  # type: ignore[arg-type]


def test_order_is_breached_then_soonest_due_then_no_due(engine: Engine, now: datetime) -> None:
    ids = seed(engine, now)
    order = _ids(engine, QueueFilter(), now)
    assert order == [
        ids["breached"],
        ids["soon"],
        ids["hostile"],
        ids["later"],
        ids["pending"],
        ids["nodue"],
    ]


def test_views(engine: Engine, now: datetime) -> None:
    ids = seed(engine, now)
    assert _ids(engine, QueueFilter(view=View.MINE, agent_id=ids["agent"]), now) == [ids["mine"]]
    assert ids["later"] not in _ids(engine, QueueFilter(view=View.UNASSIGNED), now)
    assert _ids(engine, QueueFilter(view=View.PENDING), now) == [ids["pending"]]
    assert _ids(engine, QueueFilter(view=View.BREACHING), now) == [ids["breached"], ids["soon"]]
    assert _ids(engine, QueueFilter(view=View.CATEGORY, category="returns"), now) == [
        ids["soon"],
        ids["pending"],
    ]
    with session_scope(engine) as s:
        assert breaching_count(s) == 1


def test_quick_filter_matches_subject_customer_and_number(engine: Engine, now: datetime) -> None:
    ids = seed(engine, now)
    assert _ids(engine, QueueFilter(text="refund"), now) == [ids["soon"]]
    assert set(_ids(engine, QueueFilter(text="lucía"), now)) == {ids["breached"], ids["nodue"]}
    assert _ids(engine, QueueFilter(text=f"#{ids['later']}"), now) == [ids["later"]]
    assert _ids(engine, QueueFilter(text="100%_"), now) == []


def test_full_text_search_over_subjects_and_bodies(engine: Engine, now: datetime) -> None:
    ids = seed(engine, now)
    assert _ids(engine, QueueFilter(search="carrier"), now) == [ids["breached"]]  # a note
    assert _ids(engine, QueueFilter(search="shoe"), now) == [ids["soon"]]  # prefix, subject
    assert _ids(engine, QueueFilter(search='llegado" OR x'), now) == []  # no operator injection
    with session_scope(engine) as s:
        assert search_ticket_ids(s, "pedido") == [ids["breached"]]
        assert search_ticket_ids(s, "pedido", limit=0) == []
        t = tickets.get_ticket(s, ids["nodue"])
        tickets.add_message(s, t, direction="in", now=now, body_text="zanahoria naranja")
    with session_scope(engine) as s:
        assert search_ticket_ids(s, "zanahoria") == [ids["nodue"]]  # kept in sync on insert


def test_search_terms_drop_operators() -> None:
    assert search_query_terms('foo" OR bar* NEAR(') == ["foo", "or", "bar", "near"]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(page=st.integers(min_value=1, max_value=7))
def test_keyset_pages_concatenate_to_the_whole_queue(
    sqlite_engine: Engine, now: datetime, page: int
) -> None:
    with session_scope(sqlite_engine) as s:
        if not s.exec(tickets.select(tickets.Ticket)).first():  # type: ignore[attr-defined]
            customer = tickets.get_or_create_customer(s, "c@example.com", now=now)
            for i in range(40):
                t = tickets.create_ticket(s, customer=customer, subject=f"t{i}", now=now)
                t.sla_due_at = now + timedelta(minutes=(i * 7) % 13) if i % 5 else None
                t.sla_breached = i % 6 == 0
                t.status = ("new", "open", "pending", "on_hold")[i % 4]
                s.add(t)
    whole = _ids(sqlite_engine, QueueFilter(), now, limit=1000)
    assert len(whole) == 40
    got: list[int] = []
    after = None
    while True:
        with session_scope(sqlite_engine) as s:
            rows = fetch_page(s, QueueFilter(), now=now, after=after, limit=page)
        if not rows:
            break
        got += [r.id for r in rows]
        after = rows[-1].key
    assert got == whole


def test_change_marker_moves_on_change(engine: Engine, now: datetime) -> None:
    ids = seed(engine, now)
    with session_scope(engine) as s:
        before = change_marker(s)
        tickets.set_status(
            s, tickets.get_ticket(s, ids["soon"]), "pending", now=now + timedelta(seconds=5)
        )
    with session_scope(engine) as s:
        assert change_marker(s) != before


def test_ticket_view_and_customer_history(engine: Engine, now: datetime) -> None:
    ids = seed(engine, now)
    with session_scope(engine) as s:
        view = load_ticket_view(s, ids["breached"])
        mark_read(s, ids["breached"])
    assert [m.direction for m in view.messages] == ["in", "note"]
    assert view.messages[0].quoted_text == "> old quote"
    assert view.messages[1].author == "bob"
    assert view.messages[1].attachments[0].filename == "label.pdf"
    assert view.customer.first_name == "Lucía"
    past = {p.id: p for p in view.customer.other_tickets}
    assert past[ids["solved"]].resolution_time == timedelta(days=1)
    assert past[ids["solved"]].first_reply_time == timedelta(hours=2)
    with session_scope(engine) as s:
        assert load_ticket_view(s, ids["hostile"]).customer.name == HOSTILE_NAME
        assert not tickets.get_ticket(s, ids["breached"]).unread
    assert neighbour_ids([1, 2, 3], 2) == (1, 3)
    assert neighbour_ids([1, 2, 3], 9) == (None, None)


def test_drafts_round_trip(engine: Engine, now: datetime) -> None:
    ids = seed(engine, now)
    kw = {"ticket_id": ids["soon"], "agent_id": ids["agent"], "kind": "reply"}
    with session_scope(engine) as s:
        save_draft(s, body="Hola Tom", now=now, ticket_version=3, **kw)  # type: ignore[arg-type]
    with session_scope(engine) as s:
        save_draft(s, body="Hola Tom,\nya", now=now + timedelta(seconds=3), ticket_version=4, **kw)  # type: ignore[arg-type]
    with session_scope(engine) as s:
        draft = load_draft(s, **kw)  # type: ignore[arg-type]
    assert draft is not None and draft.body == "Hola Tom,\nya"
    assert draft.started_at == now and draft.ticket_version == 3
    with session_scope(engine) as s:
        save_draft(s, body="  ", now=now, ticket_version=4, **kw)  # type: ignore[arg-type]
        assert load_draft(s, **kw) is None  # type: ignore[arg-type]
        assert not discard_draft(s, **kw)  # type: ignore[arg-type]


def test_search_stops_at_the_limit_newest_first(engine: Engine, now: datetime) -> None:
    with session_scope(engine) as s:
        customer = tickets.get_or_create_customer(s, "c@example.com", now=now)
        made = []
        for i in range(30):
            t = tickets.create_ticket(s, customer=customer, subject=f"t{i}", now=now)
            tickets.add_message(s, t, direction="in", now=now, body_text=f"palabra común {i}")
            made.append(t.id)
    with session_scope(engine) as s:
        assert search_ticket_ids(s, "común", limit=10) == made[::-1][:10]
        assert search_ticket_ids(s, "común palabra 7") == [made[7]]
