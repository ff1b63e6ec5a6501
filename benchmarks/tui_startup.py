"""Console start-up, ticket opening, search and memory on a big SQLite workspace.

Builds (once, cached in a temporary folder unless ``--db`` is given) a SQLite
file with 100,000 tickets and 500,000 messages, then measures, each in a fresh
child process:

- process start to the first painted queue, beside the same for an empty
  Textual app with a DataTable (the baseline; goal: within 1.5x of it), and for
  the queue's widgets filled with 150 rows without any database (a reference:
  what painting the queue itself costs in Textual);
- process start to the workspace being loaded (config validated, database
  open and migrated), which comes after the first paint;
- time to open a ticket (from the key to the painted conversation);
- full-text search latency (first page of results) for a few queries;
- keyset paging deep into the queue;
- the child's peak memory (VmHWM; goal: under 200 MB).

The children run with bytecode caches, as an installed program does (an
editable install under ``PYTHONDONTWRITEBYTECODE`` would compile its own
modules in every run, the libraries' not): one unmeasured run of each child
writes them; ``--no-bytecode-cache`` measures without. Baseline and console
runs alternate so that changes in the machine's load weigh on both alike.

Run: ``python benchmarks/tui_startup.py [--tickets 100000] [--messages 500000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

WORDS = [
    "pedido",
    "envío",
    "paquete",
    "devolución",
    "reembolso",
    "talla",
    "zapatos",
    "camiseta",
    "tarjeta",
    "pago",
    "factura",
    "transportista",
    "retraso",
    "dirección",
    "cancelar",
    "garantía",
    "roto",
    "dañado",
    "cambio",
    "order",
    "shipping",
    "parcel",
    "refund",
    "size",
    "shoes",
    "card",
    "payment",
    "invoice",
    "carrier",
    "delay",
    "address",
    "cancel",
    "warranty",
    "broken",
    "damaged",
    "exchange",
    "hola",
    "gracias",
    "saludos",
    "please",
]
CATEGORIES = ("product_question", "order_status", "payment", "delivery", "returns", "other")
OPEN = ("new", "open", "pending", "on_hold")
NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def build_database(path: Path, *, tickets: int, messages: int) -> None:
    """Create the schema with the migrations, then bulk-insert with raw SQL."""
    from cs_console.store.engine import make_engine
    from cs_console.store.migrate import upgrade

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    rng = random.Random(7)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    triggers = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='trigger' AND name LIKE '%fts%'"
    ).fetchall()
    for name, _sql in triggers:
        db.execute(f"DROP TRIGGER {name}")
    now = _ts(NOW)
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO agent (id, name, display_name, active, created_at) VALUES (?, ?, ?, 1, ?)",
        [(i, f"agent{i}", f"Agent {i}", now) for i in range(1, 6)],
    )
    customers = max(1, tickets // 5)
    db.executemany(
        "INSERT INTO customer (id, email, name, blocked, created_at) VALUES (?, ?, ?, 0, ?)",
        [(i, f"c{i}@example.com", f"Customer {i}", now) for i in range(1, customers + 1)],
    )

    def ticket_rows():  # type: ignore[no-untyped-def]
        for i in range(1, tickets + 1):
            created = NOW - timedelta(minutes=rng.randrange(60 * 24 * 90))
            status = rng.choice(OPEN) if rng.random() < 0.6 else "solved"
            due = None
            breached = 0
            if status in OPEN:
                due = created + timedelta(hours=rng.choice((5, 24, 48)))
                breached = 1 if due < NOW else 0
            subject = " ".join(rng.choices(WORDS, k=5))
            yield (
                i,
                subject,
                rng.randrange(1, customers + 1),
                status,
                "normal",
                rng.choice(CATEGORIES),
                "email",
                "es",
                "shop",
                rng.choice((None, 1, 2, 3)),
                _ts(created),
                _ts(created),
                _ts(due) if due else None,
                _ts(due) if due else None,
                breached,
                int(rng.random() < 0.3),
                1,
            )

    db.executemany(
        "INSERT INTO ticket (id, subject, customer_id, status, priority, category, channel, "
        "language, account, assignee_id, created_at, updated_at, first_reply_due, sla_due_at, "
        "sla_breached, unread, version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        ticket_rows(),
    )

    def message_rows():  # type: ignore[no-untyped-def]
        for i in range(1, messages + 1):
            ticket = (i - 1) % tickets + 1
            body = " ".join(rng.choices(WORDS, k=rng.randrange(12, 40)))
            direction = "in" if i <= tickets or rng.random() < 0.5 else rng.choice(("out", "note"))
            yield (
                i,
                ticket,
                direction,
                "Customer",
                "c@example.com",
                "",
                "",
                "",
                now,
                body,
                body,
                "",
                "",
                0,
                "",
            )

    db.executemany(
        "INSERT INTO message (id, ticket_id, direction, from_name, from_address, to_addresses, "
        "cc_addresses, subject, created_at, body_text, new_text, quoted_text, signature, "
        "automated, parse_warnings) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        message_rows(),
    )
    db.execute("INSERT INTO ticket_fts(ticket_fts) VALUES ('rebuild')")
    db.execute("INSERT INTO message_fts(message_fts) VALUES ('rebuild')")
    for _name, sql in triggers:
        db.execute(sql)
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()


# -- children: each prints one JSON line and exits


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_baseline(start: float) -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    class Baseline(App[None]):
        def compose(self) -> ComposeResult:
            table: DataTable[str] = DataTable()
            table.add_columns("#", "subject")
            yield table

        def on_mount(self) -> None:
            self.call_after_refresh(self.done)

        def done(self) -> None:
            print(json.dumps({"painted": time.time() - start, "rss_mb": _peak_rss_mb()}))
            self.exit()

    Baseline().run(headless=True, size=(120, 40))


def child_reference(start: float) -> None:
    """The queue's widgets (no database): a 10-column table of 150 rows, an input, a footer."""
    from rich.text import Text
    from textual.app import App, ComposeResult
    from textual.binding import Binding
    from textual.widgets import DataTable, Footer, Input, Static

    class Reference(App[None]):
        BINDINGS = [Binding(k, "bell", k.upper()) for k in "nd/fo"]  # noqa: RUF012

        def compose(self) -> ComposeResult:
            yield Static("views")
            yield Input(placeholder="/ search   f filter")
            table: DataTable[object] = DataTable(cursor_type="row", zebra_stripes=True)
            for i, width in enumerate((5, 1, 15, 26, 13, 6, 7, 8, 8, 10)):
                table.add_column(f"c{i}", width=width)
            yield table
            yield Static("status")
            yield Footer()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            self.set_focus(table)
            for row in range(150):
                table.add_row(
                    *(Text(f"{row} {' '.join(random.choices(WORDS, k=3))}") for _ in range(10))
                )
            self.call_after_refresh(self.done)

        def done(self) -> None:
            print(json.dumps({"painted": time.time() - start, "rss_mb": _peak_rss_mb()}))
            self.exit()

    Reference().run(headless=True, size=(120, 40))


def child_imports(start: float) -> None:
    """Where start-up time goes: the import of each layer, in order."""
    marks = {"interpreter": time.time() - start}
    t = time.perf_counter()
    import textual.app
    import textual.widgets  # noqa: F401

    marks["textual"] = time.perf_counter() - t
    t = time.perf_counter()
    import cs_console.config

    marks["config (pydantic, SLA settings)"] = time.perf_counter() - t
    t = time.perf_counter()
    import cs_console.store.models

    marks["SQLAlchemy + SQLModel tables"] = time.perf_counter() - t
    t = time.perf_counter()
    import cs_console.tui.app
    import cs_console.tui.screens.queue  # noqa: F401

    marks["console modules"] = time.perf_counter() - t
    print(json.dumps(marks))


def child_console(start: float, db: str, queries: list[str]) -> None:
    """The console as ``cs-console`` opens it: from a config file naming the database."""
    from cs_console.tui.app import prepare_console
    from cs_console.tui.screens.queue import QueueScreen

    config = Path(tempfile.mkdtemp(prefix="cs-tui-bench-")) / "config.toml"
    config.write_text(f'[agent]\nname = "agent1"\n\n[database]\nurl = "sqlite:///{db}"\n')

    def load_settings():  # type: ignore[no-untyped-def]
        from cs_console.config import load_settings

        return load_settings(config)

    result: dict[str, object] = {}
    app = prepare_console(
        config, load_settings=load_settings, now_fn=lambda: NOW, send_outbox=False
    )
    result["first_page_path"] = app.first_page is not None

    def wait_queue() -> None:
        screen = app.screen
        if isinstance(screen, QueueScreen) and screen.rows:
            app.call_after_refresh(painted_queue)
        else:
            app.set_timer(0.005, wait_queue)

    def painted_queue() -> None:
        result["painted"] = time.time() - start
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        result["rows_loaded"] = len(screen.rows)
        wait_ready()

    def wait_ready() -> None:
        # Settings validated, database opened and migrated, the real query's layer loaded.
        if app.ready:
            result["ready"] = time.time() - start
            open_first()
        else:
            app.set_timer(0.005, wait_ready)

    def open_first() -> None:
        from cs_console.tui.screens.ticket import TicketScreen  # noqa: F401  (imported on Enter)

        screen = app.screen
        assert isinstance(screen, QueueScreen)
        result["open_started"] = time.perf_counter()
        app.open_ticket(screen.rows[0].id, [r.id for r in screen.rows])
        app.set_timer(0.002, wait_ticket)

    def wait_ticket() -> None:
        from cs_console.tui.screens.ticket import TicketScreen

        screen = app.screen
        if isinstance(screen, TicketScreen) and screen.view is not None:
            app.call_after_refresh(painted_ticket)
        else:
            app.set_timer(0.002, wait_ticket)

    def painted_ticket() -> None:
        result["open_ticket"] = time.perf_counter() - float(result.pop("open_started"))  # type: ignore[arg-type]
        app.exit()

    app.call_later(wait_queue)
    app.run(headless=True, size=(120, 40))

    # Search and deep paging, through the same calls the screens make.
    from cs_console.desk.queue import QueueFilter

    gateway = app.gateway
    timings = []
    for query in queries:
        t0 = time.perf_counter()
        rows = gateway.page(QueueFilter(search=query), limit=151)
        timings.append((query, time.perf_counter() - t0, len(rows)))
    result["search"] = timings
    after = None
    t0 = time.perf_counter()
    pages = 0
    for _ in range(20):
        rows = gateway.page(QueueFilter(), after=after, limit=150)
        if not rows:
            break
        after = rows[-1].key
        pages += 1
    result["page"] = (time.perf_counter() - t0) / max(pages, 1)
    result["rss_mb"] = _peak_rss_mb()
    shutil.rmtree(config.parent, ignore_errors=True)
    print(json.dumps(result))


#: The children's environment; see ``--no-bytecode-cache``.
CHILD_ENV = dict(os.environ)


def run_child(*args: str) -> dict[str, object]:
    start = time.time()
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(start), *args],
        capture_output=True,
        text=True,
        check=True,
        env=CHILD_ENV,
    )
    line = [x for x in out.stdout.splitlines() if x.startswith("{")][-1]
    return json.loads(line)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--db", type=Path, default=None, help="Reuse or create this file.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="Keep PYTHONDONTWRITEBYTECODE as it is: an editable install's own modules are "
        "then compiled from source in every child, the installed libraries' are not.",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        start, kind, *rest = args.child
        if kind == "baseline":
            child_baseline(float(start))
        elif kind == "reference":
            child_reference(float(start))
        elif kind == "imports":
            child_imports(float(start))
        else:
            child_console(float(start), rest[0], rest[1:])
        return

    db = args.db or Path(tempfile.gettempdir()) / f"cs-tui-bench-{args.tickets}-{args.messages}.db"
    if not db.exists():
        t0 = time.perf_counter()
        build_database(db, tickets=args.tickets, messages=args.messages)
        print(
            f"built {db} ({args.tickets:,} tickets, {args.messages:,} messages) "
            f"in {time.perf_counter() - t0:.1f}s, {db.stat().st_size / 1e6:.0f} MB"
        )
    if not args.no_bytecode_cache:
        # As an installed program runs: with bytecode caches (kept in a private folder, so
        # the source tree stays clean), written by an unmeasured first run of each child.
        CHILD_ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "cs-tui-bench-pycache")
    queries = ["reembolso", "garantía roto", "zapatos tarjeta factura", "nothingmatches"]
    for kind in ("baseline", "reference"):
        run_child(kind)
    run_child("console", str(db), *queries)
    # Interleaved, so that a change in the machine's load weighs on both alike.
    baseline, console, reference = [], [], []
    for _ in range(args.runs):
        baseline.append(run_child("baseline"))
        console.append(run_child("console", str(db), *queries))
        reference.append(run_child("reference"))

    def med(values: list[float]) -> float:
        return statistics.median(values)

    base_paint = med([float(r["painted"]) for r in baseline])  # type: ignore[arg-type]
    paint = med([float(r["painted"]) for r in console])  # type: ignore[arg-type]
    print(f"first paint, empty Textual app + DataTable: {base_paint * 1000:7.0f} ms (baseline)")
    print(
        f"first paint, console queue ({console[0]['rows_loaded']} rows loaded): "
        f"{paint * 1000:7.0f} ms  = {paint / base_paint:.2f}x baseline (goal <= 1.5x)"
    )
    ref_paint = med([float(r["painted"]) for r in reference])  # type: ignore[arg-type]
    print(
        f"first paint, the queue's widgets with 150 rows, no database: {ref_paint * 1000:7.0f} ms "
        f"= {ref_paint / base_paint:.2f}x baseline (reference)"
    )
    ready = med([float(r["ready"]) for r in console])  # type: ignore[arg-type]
    path = "first page, then loading" if console[0]["first_page_path"] else "ordinary"
    print(f"workspace loaded (config valid, database open, {path}): {ready * 1000:7.0f} ms")
    opened = med([float(r["open_ticket"]) for r in console])  # type: ignore[arg-type]
    print(f"open a ticket (key to painted conversation): {opened * 1000:7.1f} ms")
    for i, query in enumerate(queries):
        t = med([float(r["search"][i][1]) for r in console])  # type: ignore[index]
        n = console[0]["search"][i][2]  # type: ignore[index]
        print(f"search {query!r:28} first page: {t * 1000:7.1f} ms ({n} rows)")
    page = med([float(r["page"]) for r in console])  # type: ignore[arg-type]
    print(f"keyset page of 150 rows (20 pages deep):   {page * 1000:7.1f} ms")
    imports = [run_child("imports") for _ in range(args.runs)]
    print("where start-up goes (median import times):")
    for name in imports[0]:
        print(f"  {name:34} {med([float(r[name]) for r in imports]) * 1000:7.0f} ms")
    rss = max(float(r["rss_mb"]) for r in console)  # type: ignore[arg-type]
    base_rss = max(float(r["rss_mb"]) for r in baseline)  # type: ignore[arg-type]
    print(f"peak RSS: console {rss:.0f} MB (goal < 200 MB), baseline app {base_rss:.0f} MB")
    if os.environ.get("CS_BENCH_JSON"):
        print(json.dumps({"baseline": baseline, "console": console}))


if __name__ == "__main__":
    main()
