"""First sync of a large mailbox, beside a bare IMAP fetch of the same messages.

Loads N realistic messages (about 3.8 KB each, a fifth with an attachment,
Spanish and English, some replies to earlier ones) into the rig's Dovecot as
Maildir files, then measures in the same run:

* baseline: a bare imapclient loop fetching every message with ``BODY.PEEK[]``
  in batches of 200, no parsing, nothing stored;
* ``sync_account``: parse, dedupe, thread, route, store (SQLite by default, or
  PostgreSQL with ``--postgres``), acknowledge. A sync this large records each
  batch from its headers first: its tickets are in the queue when that
  transaction commits ("all tickets visible" is the last batch's), and the
  bodies, attachments, search index, routing, SLA and acknowledgements follow
  ("all extracted" is the end of the sync);
* the no-news poll: the IMAP commands and time of a second sync on an open
  connection, beside a bare ``NOOP`` round trip;
* the parser alone: :func:`cs_console.mail.parse.parse_message` over the same
  messages in this process, the floor of any single-process sync.

Each run (``--runs``, default 3) fetches bare and then syncs into an empty
workspace (its own database and attachments folder), so each ratio compares
two measurements taken moments apart; the median of the runs' ratios follows
them. The parser and the no-news poll are measured once, after the runs.

The sync runs with its defaults (batches of 500, fetched and parsed by worker
processes while another batch is written); ``--parse-workers 0`` fetches and
parses in the sync's own process. The CPU time of the sync's process and of
its parser processes is printed beside the wall-clock time: on two cores their
sum against twice the wall time shows how close the run is to being CPU-bound.
The project runs with bytecode caches, as an installed program does (an
editable install under ``PYTHONDONTWRITEBYTECODE`` would compile its modules
again in every parser process it starts); ``--no-bytecode-cache`` measures
without.

Goals: tickets visible within 6x the bare fetch, everything extracted within
12x, the no-news poll one round trip.

The parser processes' kernel time is mostly the attachment files they
create. On the test machine creating a file costs about 0.02 ms, and up to
1 ms for a minute or so after many files were deleted (its disk is mounted
with ``discard``): a run started right after another one (whose workspace was
just removed) shows it as a second or more of kernel time and a slower "all
extracted". Leave the disk a minute between runs.

Run: ``python benchmarks/sync_first_run.py [--messages 10000] [--postgres]
[--parse-workers N] [--batch-size N] [--runs N]``
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The project and the rig are imported in the functions that use them: the sync's
# parser processes are spawned, and a spawned process imports this script first,
# as it imports the small `cs-console` entry script in real use.

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)

_ES = [
    (
        "¿Dónde está mi pedido {n}?",
        "Hola, hice el pedido {n} la semana pasada y todavía no sé nada del envío.",
    ),
    (
        "Devolución del pedido {n}",
        "Buenas tardes, quiero devolver las zapatillas del pedido {n}, me quedan pequeñas.",
    ),
    (
        "Cobro duplicado",
        "Me habéis cobrado dos veces el pedido {n} en la tarjeta. ¿Podéis revisarlo?",
    ),
    ("Cancelar pedido {n}", "Por favor, cancelad el pedido {n}, me he equivocado de modelo."),
    ("Consulta sobre tallas", "¿Tenéis la camiseta del pedido {n} en talla L? ¿Qué medidas tiene?"),
    (
        "Garantía batidora",
        "La batidora que compré (pedido {n}) ha dejado de funcionar a los tres meses.",
    ),
]
_EN = [
    (
        "Where is my order {n}?",
        "Hi, I placed order {n} last week and I still have no tracking number.",
    ),
    (
        "Refund for order {n}",
        "Hello, I would like to return the jacket from order {n} and get a refund.",
    ),
    ("Charged twice", "I was charged twice for order {n}. Could you please look into it?"),
    (
        "Question about sizes",
        "Is the blue model of order {n} available in size M? What are the dimensions?",
    ),
]
_FILLER_ES = (
    "Os escribo porque es la primera vez que compro en vuestra tienda y no tengo claro el "
    "proceso. Estuve mirando la web y la sección de ayuda, pero no encontré la respuesta. "
)
_FILLER_EN = (
    "I am writing because this is my first purchase from your shop and the process is not "
    "clear to me. I looked at the help pages on the website but could not find the answer. "
)


def make_messages(count: int, seed: int = 7) -> list[bytes]:
    """``count`` realistic messages, about 3.8 KB each; every fifth has an attachment."""
    from tests.rig.dovecot import USER

    rng = random.Random(seed)
    customers = [f"cliente{i}@correo{i % 37}.es" for i in range(count // 5 or 1)]
    sent: list[tuple[str, str, str]] = []
    out: list[bytes] = []
    for i in range(count):
        spanish = rng.random() < 0.7
        subject, body = rng.choice(_ES if spanish else _EN)
        n = 10000 + i
        sender = rng.choice(customers)
        msg = EmailMessage()
        when = NOW - timedelta(days=30) + timedelta(seconds=i * 250)
        reply_to = rng.choice(sent) if sent and rng.random() < 0.15 else None
        if reply_to is not None:
            sender, prev_mid, prev_subject = reply_to
            subject_text = f"Re: {prev_subject}"
        else:
            prev_mid = None
            subject_text = subject.format(n=n)
        msg["Return-Path"] = f"<{sender}>"
        msg["Received"] = f"from mx.correo.es by mail.tienda.es; {format_datetime(when)}"
        msg["From"] = f"Cliente {i} <{sender}>"
        msg["To"] = USER
        msg["Subject"] = subject_text
        msg["Date"] = format_datetime(when)
        mid = f"bench{i}.{rng.getrandbits(32):x}@correo.es"
        msg["Message-ID"] = f"<{mid}>"
        if prev_mid:
            msg["In-Reply-To"] = f"<{prev_mid}>"
            msg["References"] = f"<{prev_mid}>"
        filler = _FILLER_ES if spanish else _FILLER_EN
        text = body.format(n=n) + "\n\n" + filler * rng.randint(13, 19)
        text += "\n\n-- \nCliente {i}\nTel. 600 000 {i:03d}\n".format(i=i % 1000)
        if prev_mid:
            text += "\n\nEl lun, escribió:\n> " + "\n> ".join(filler.split(". "))
        msg.set_content(text)
        if i % 5 == 0:
            data = bytes(rng.getrandbits(8) for _ in range(rng.randint(600, 1400)))
            msg.add_attachment(
                data, maintype="application", subtype="pdf", filename=f"factura-{n}.pdf"
            )
        out.append(msg.as_bytes())
        sent.append((sender, mid, subject_text))
    return out


def bare_fetch(dovecot, batch: int = 200) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    total = 0
    with dovecot.client() as client:
        client.select_folder("INBOX", readonly=True)
        uids = client.search("ALL")
        for i in range(0, len(uids), batch):
            answer = client.fetch(uids[i : i + batch], [b"BODY.PEEK[]"])
            total += sum(len(v[b"BODY[]"]) for v in answer.values())
    return time.perf_counter() - start, total


def count_commands(client) -> list[str]:  # type: ignore[no-untyped-def]
    sent: list[str] = []
    original = client._imap._command

    def wrapper(name, *args):  # type: ignore[no-untyped-def]
        sent.append(name)
        return original(name, *args)

    client._imap._command = wrapper
    return sent


@dataclass(frozen=True)
class SyncFigures:
    """One run's times, in seconds, beside its bare fetch."""

    bare: float
    first: float  # the first batch's tickets in the queue
    visible: float  # every ticket in the queue
    synced: float  # everything extracted and searchable: the sync's end


def measure_sync(  # type: ignore[no-untyped-def]
    settings, engine, account, config, args, bare: float, profile: Path | None
) -> SyncFigures:
    """Run the first sync into an empty workspace and print its figures."""
    import resource

    from cs_console.desk.sync import SyncProgress, sync_account

    marks: list[tuple[float, int]] = []

    def progress(event: SyncProgress) -> None:
        marks.append((time.perf_counter(), event.done))
        if event.done and event.done % 2000 < 200 and not event.bodies_total:
            print(f"  {event.done}/{event.total}", flush=True)

    cpu_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_writer = time.process_time()
    start = time.perf_counter()
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    report = sync_account(
        settings,
        engine,
        account,
        now_fn=lambda: NOW,
        progress=progress,
        config=config,
        parse_workers=args.parse_workers,
        batch_size=args.batch_size,
    )
    if profile:
        profiler.disable()
        profiler.dump_stats(str(profile))
    synced = time.perf_counter() - start
    cpu_writer = time.process_time() - cpu_writer
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    system = children.ru_stime - cpu_children.ru_stime  # the kernel's share (files, pipes)
    cpu_workers = children.ru_utime - cpu_children.ru_utime + system
    assert report.ok, report.errors
    print(
        f"sync_account: {synced:.2f} s for {report.total('stored')} messages, "
        f"{report.total('new_tickets')} tickets ({report.total('stored') / synced:.0f} msg/s)"
    )
    print(
        f"  CPU time: the sync's process {cpu_writer:.2f} s, "
        f"its parser processes {cpu_workers:.2f} s, {system:.2f} s of it in the kernel"
        f" (two cores give {2 * synced:.2f} s)"
    )
    # A batch's tickets are in the queue once its transaction commits, which is
    # when progress reports it done; the bodies are read after, and the sync ends
    # once they are all stored.
    first = next((at - start for at, done in marks if done), synced)
    visible = next((at - start for at, done in marks if done >= args.messages), synced)
    print(f"  first tickets visible: {first:.2f} s = {first / bare:.1f}x the bare fetch")
    print(
        f"  all tickets visible:   {visible:.2f} s = {visible / bare:.1f}x the bare fetch (goal 6x)"
    )
    print(
        f"  all extracted, searchable: {synced:.2f} s = {synced / bare:.1f}x the bare fetch"
        " (goal 12x)"
    )
    return SyncFigures(bare, first, visible, synced)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument(
        "--postgres", action="store_true", help="store in PostgreSQL (127.0.0.1 'test')"
    )
    parser.add_argument("--profile", type=Path, help="write a cProfile of the sync here")
    parser.add_argument(
        "--parse-workers",
        type=int,
        default=None,
        help="parser processes (default: one per core, at most two; 0 parses inline)",
    )
    parser.add_argument("--batch-size", type=int, default=500, help="the sync's default: 500")
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="bare fetch and first sync, each into an empty workspace, this many times"
        " (the median is printed after them)",
    )
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="keep PYTHONDONTWRITEBYTECODE as it is (parser processes compile the project)",
    )
    args = parser.parse_args()

    import os

    if not args.no_bytecode_cache:
        # Caches in a private folder (the source tree stays clean), written by this
        # process's imports below and read by the parser processes it spawns.
        cache = str(Path(tempfile.gettempdir()) / "cs-sync-bench-pycache")
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = cache
        sys.dont_write_bytecode = False
        sys.pycache_prefix = cache
        import cs_console.desk.sync_parse  # noqa: F401  (what the parser processes import)

    from tests.rig.dovecot import PASSWORD, start_dovecot
    from tests.rig.workspace import PASSWORD_ENV, account_table

    from cs_console.config import settings_from_mapping
    from cs_console.desk.ingest import IngestConfig
    from cs_console.desk.sync import sync_account
    from cs_console.mail.connect import imap_connect
    from cs_console.mail.endpoints import imap_endpoint
    from cs_console.store.engine import make_engine
    from cs_console.store.migrate import upgrade

    os.environ[PASSWORD_ENV] = PASSWORD
    dovecot = start_dovecot()
    work = Path(tempfile.mkdtemp(prefix="csbench"))
    context = None  # the PostgreSQL schema of the current run
    engine = None
    try:
        print(f"generating {args.messages} messages...", flush=True)
        raws = make_messages(args.messages)
        size = sum(len(r) for r in raws)
        with_attachments = sum(1 for i in range(len(raws)) if i % 5 == 0)
        print(f"  {size / len(raws) / 1024:.2f} KB average, {with_attachments} with attachments")
        dovecot.deliver_many(raws)
        with dovecot.client() as client:  # let Dovecot build its index before either side
            client.select_folder("INBOX", readonly=True)
            client.search("ALL")

        figures: list[SyncFigures] = []
        for run in range(1, args.runs + 1):
            if args.runs > 1:
                print(f"run {run} of {args.runs}", flush=True)
            bare, fetched_bytes = bare_fetch(dovecot)
            print(
                f"bare fetch (BODY.PEEK[] in batches of 200): {bare:.2f} s, "
                f"{fetched_bytes / 1e6:.1f} MB"
            )
            # Each run starts from an empty workspace: its own database and attachments.
            settings = settings_from_mapping(
                {
                    "shop": {
                        "name": "Tienda",
                        "timezone": "Europe/Madrid",
                        "language": "es",
                        "country": "ES",
                    },
                    "storage": {"data_dir": str(work / f"data{run}")},
                    "accounts": [account_table(dovecot)],
                }
            )
            if context is not None:
                context.__exit__(None, None, None)
                context = None
            if engine is not None:
                engine.dispose()
            if args.postgres:
                from tests.rig.database import postgres_schema

                context = postgres_schema()
                engine, _schema = context.__enter__()
            else:
                engine = make_engine(f"sqlite:///{work / f'cs{run}.db'}")
                upgrade(engine)
            account = settings.accounts[0]
            config = IngestConfig.from_settings(settings)
            profile = args.profile if run == 1 else None
            figures.append(measure_sync(settings, engine, account, config, args, bare, profile))
        if args.runs > 1:
            visible = median(f.visible / f.bare for f in figures)
            extracted = median(f.synced / f.bare for f in figures)
            print(
                f"median of {args.runs} runs: all tickets visible {visible:.1f}x (goal 6x), "
                f"all extracted {extracted:.1f}x (goal 12x)"
            )

        from cs_console.desk.sync_parse import parse_all

        t0 = time.perf_counter()
        parse_all(raws)
        parsing = time.perf_counter() - t0
        print(
            f"parser alone (parse_message, one process): {parsing:.2f} s = "
            f"{parsing / bare:.1f}x the bare fetch"
        )

        client = imap_connect(imap_endpoint(account), PASSWORD)
        commands = count_commands(client)
        t0 = time.perf_counter()
        client.noop()
        noop = time.perf_counter() - t0
        commands.clear()
        t0 = time.perf_counter()
        poll = sync_account(
            settings, engine, account, now_fn=lambda: NOW, client=client, config=config
        )
        polled = time.perf_counter() - t0
        commands = list(commands)
        client.logout()
        assert poll.folders[0].no_news
        print(
            f"no-news poll: {len(commands)} IMAP command(s) {commands}, {polled * 1000:.1f} ms "
            f"(bare NOOP round trip {noop * 1000:.1f} ms; the rest is the state read/write)"
        )
    finally:
        if context is not None:
            context.__exit__(None, None, None)
        dovecot.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
