"""CSV export end to end: any ticket text round-trips through the csv module, no formula.

``tests/test_exports.py`` checks the writer alone; here tickets with generated
subjects and customer names go through :func:`export_dataset`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from cs_console.desk.exports import export_dataset
from cs_console.store.engine import make_engine, session_scope
from cs_console.store.migrate import upgrade
from tests.test_outbox_support import seed_ticket

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CELL = st.one_of(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from(FORMULA_START).flatmap(
        lambda lead: st.text(max_size=20).map(lambda rest: lead + rest.replace("\x00", ""))
    ),
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("fuzz-export") / "cs.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    yield engine
    engine.dispose()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(subject=CELL, name=CELL)
def test_exported_ticket_text_round_trips_and_never_starts_a_formula(
    engine: Engine, subject: str, name: str
) -> None:
    with session_scope(engine) as session:
        ticket = seed_ticket(session, now=NOW, subject=subject, name=name)
        number, stored = ticket.id, ticket.subject
    stream = io.StringIO(newline="")
    export_dataset(engine, "tickets", fmt="csv", now=NOW, out=None, stdout=stream)
    rows = list(csv.reader(io.StringIO(stream.getvalue(), newline="")))
    header = rows[0]
    [row] = [r for r in rows[1:] if r[header.index("id")] == str(number)]
    cells = dict(zip(header, row, strict=True))
    for column in ("subject", "customer_name"):
        assert not cells[column].startswith(FORMULA_START), (column, cells[column])
    # The csv module gives back exactly what was stored, marked as text when needed.
    expected = "'" + stored if stored.startswith(FORMULA_START) else stored
    assert cells["subject"] == expected
