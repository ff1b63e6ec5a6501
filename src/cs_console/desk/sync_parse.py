"""Fetching and parsing a sync's batches: in worker processes while another batch is written.

Parsing MIME is pure CPU work (:func:`cs_console.mail.parse.parse_message`) and
its results pickle, so a large first sync has a small process pool fetch and
parse the next batches while the writer stores one. Each worker fetches on an
IMAP connection of its own (:meth:`BatchParser.fetch`), since decoding the
server's answer costs the writer as much CPU time as its SQL; a worker that
cannot connect or fetch leaves the fetching to the writer's connection. The
workers run at a lower priority (:data:`WORKER_NICENESS`): the writer is the
sync's critical path, and on two cores three busy processes would slow it
down. Small syncs (the usual
poll that finds a few messages) parse inline: starting workers would cost more
than it saves. A single-threaded process on Linux (``cs-console sync``) forks its
workers, which are ready at once; one that runs other threads (the console)
spawns them, and a spawned worker takes a while (a fresh interpreter imports
the parser): batches submitted before the workers are ready are parsed inline,
when their results are asked for, instead of waiting for them. A pool that
breaks (a worker killed) falls back to parsing inline.

Besides parsing, a worker does the rest of a message's work that needs no
database (:func:`prepare`): its content hash, how the routing rules would
route it if it opened a ticket, and its attachments written to the
attachment store, so only their hashes travel back. Files written for a batch
that is then not committed are harmless: the store is by content hash and a
retry writes nothing new.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from multiprocessing.util import Finalize
from pathlib import Path
from typing import TypeVar

from cs_console.desk.dedupe import dedupe_hash
from cs_console.desk.gc_tuning import tune_worker_gc
from cs_console.desk.orphans import exit_with_parent
from cs_console.desk.routing import (
    Router,
    RoutingDecision,
    RoutingSettings,
    message_routing_input,
)
from cs_console.errors import CsConsoleError, ImapError
from cs_console.i18n import _
from cs_console.mail.connect import Credential, Endpoint, imap_connect, logout_quietly
from cs_console.mail.imap_sync import FetchedMessage, ImapFolder
from cs_console.mail.parse import ParsedMessage, parse_headers_only, parse_message
from cs_console.store.attachments import store_blob

__all__ = [
    "POOL_MIN_MESSAGES",
    "WORKER_NICENESS",
    "BatchParser",
    "FetchedBatch",
    "MailboxRef",
    "OwedBody",
    "Parsing",
    "PrepareContext",
    "Prepared",
    "StoredFile",
    "default_workers",
    "is_large",
    "parse_all",
    "prepare",
    "prepare_all",
    "prepare_body",
    "prepare_head",
    "start_method",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

POOL_MIN_MESSAGES = 1000  # fewer new messages than this are parsed inline
WORKER_NICENESS = 10  # the parser processes yield the CPU to the writer


def is_large(total: int) -> bool:
    """Whether ``total`` new messages are worth parser processes (a first sync, a backlog)."""
    return total >= POOL_MIN_MESSAGES


def parse_all(raws: Sequence[bytes]) -> list[ParsedMessage]:
    """Parse every message (the workers' job; also the inline path)."""
    return [parse_message(raw) for raw in raws]


@dataclass(frozen=True)
class PrepareContext:
    """What preparing a message needs besides its bytes (given once to each worker)."""

    attachments_dir: Path
    routing: RoutingSettings


@dataclass(frozen=True)
class StoredFile:
    """An attachment already written to the attachment store."""

    sha256: str
    size: int


@dataclass(frozen=True)
class Prepared:
    """A message parsed, with what the ingest derives from it alone, ready for the ingest.

    When ``stored`` is set, the attachments are in the store (one entry per
    ``parsed.attachments``, in order) and their ``data`` is left empty; when
    the store could not be written, ``stored`` is None and the data is kept,
    for the ingest to write (and report) itself.
    """

    parsed: ParsedMessage
    content_hash: str  # :func:`cs_console.desk.dedupe.dedupe_hash`
    route: RoutingDecision  # how the message is routed if it opens a ticket
    stored: tuple[StoredFile, ...] | None
    #: Only the headers were parsed (:func:`prepare_head`): the body, its routing
    #: and attachments come later (:mod:`cs_console.desk.sync_bodies`).
    body_pending: bool = False


def prepare(raw: bytes, context: PrepareContext, router: Router) -> Prepared:
    """Parse one message and do the rest of its work that needs no database."""
    parsed = parse_message(raw)
    content_hash = dedupe_hash(raw, parsed)
    decision = router.route(message_routing_input(parsed))
    return _with_attachments_stored(Prepared(parsed, content_hash, decision, None), context)


def _with_attachments_stored(prepared: Prepared, context: PrepareContext) -> Prepared:
    """Write the attachments to the store; only their hashes travel on (``stored``)."""
    parsed = prepared.parsed
    try:
        stored = tuple(
            StoredFile(store_blob(context.attachments_dir, part.data), len(part.data))
            for part in parsed.attachments
        )
    except OSError as exc:  # a full disk: the ingest tries again and reports it
        log.warning("cannot store an attachment ahead of the ingest: %s", exc)
        return prepared
    if parsed.attachments:
        emptied = [replace(part, data=b"") for part in parsed.attachments]
        parsed = replace(parsed, attachments=emptied)
    return replace(prepared, parsed=parsed, stored=stored)


def prepare_head(raw: bytes, router: Router) -> Prepared:
    """Parse only the header block: what recording the message and its ticket needs.

    The content hash is the one :func:`prepare` gives (it covers the header
    fields and the body's bytes); the routing is the rules' default until the
    body is read.
    """
    parsed = parse_headers_only(raw)
    return Prepared(parsed, dedupe_hash(raw, parsed), router.unrouted(), (), body_pending=True)


@dataclass(frozen=True)
class OwedBody:
    """A message recorded from its headers whose body is to be read.

    ``head`` is what :func:`prepare_head` gave: its header fields are reused
    as they are; ``opened`` says whether the message opened its ticket, the
    only case its routing is needed for.
    """

    row_id: int  # the message's row
    raw: bytes
    head: Prepared
    opened: bool


def prepare_body(owed: OwedBody, context: PrepareContext, router: Router) -> Prepared:
    """Read the body of a message :func:`prepare_head` prepared; route it if it opened a ticket."""
    parsed = parse_message(owed.raw, head=owed.head.parsed)
    decision = router.route(message_routing_input(parsed)) if owed.opened else owed.head.route
    return _with_attachments_stored(
        Prepared(parsed, owed.head.content_hash, decision, None), context
    )


def prepare_all(
    raws: Sequence[bytes],
    context: PrepareContext,
    router: Router | None = None,
    *,
    heads: bool = False,
) -> list[Prepared]:
    """:func:`prepare` (or :func:`prepare_head`) every message: the workers' job, or inline."""
    router = router or Router(context.routing)
    if heads:
        return [prepare_head(raw, router) for raw in raws]
    return [prepare(raw, context, router) for raw in raws]


@dataclass(frozen=True)
class MailboxRef:
    """The folder a sync fetches from, for workers that fetch their batches themselves.

    ``uidvalidity`` is the value the sync selected: a worker that finds
    another one fetches nothing (the UIDs would name other messages).
    """

    endpoint: Endpoint
    credential: Credential
    folder: str
    uidvalidity: int


FetchedBatch = tuple[list[FetchedMessage], list[Prepared]]


@dataclass
class _Worker:
    context: PrepareContext
    router: Router
    mailbox: MailboxRef | None
    box: ImapFolder | None = None


_WORKER: _Worker | None = None


def _start_worker(
    context: PrepareContext,
    mailbox: MailboxRef | None = None,
    parent: int | None = None,
) -> None:
    """A worker's initializer: keep the context and compile the routing rules once.

    ``parent`` is the sync's process id: a worker whose sync is killed exits too.
    """
    global _WORKER
    tune_worker_gc()
    _WORKER = _Worker(context, Router(context.routing), mailbox)
    if parent is not None:
        exit_with_parent(parent)
    try:
        # The writer is the sync's critical path: the workers parse ahead with what CPU
        # it leaves (and the console's interface stays responsive).
        os.nice(WORKER_NICENESS)
    except (AttributeError, OSError):  # no nice() here
        pass


def _worker() -> _Worker:
    assert _WORKER is not None, "a worker started without its context"
    return _WORKER


def _prepare_in_worker(raws: Sequence[bytes]) -> list[Prepared]:
    worker = _worker()
    return prepare_all(raws, worker.context, worker.router)


def _prepare_bodies_in_worker(owed: Sequence[OwedBody]) -> list[Prepared]:
    worker = _worker()
    return [prepare_body(item, worker.context, worker.router) for item in owed]


def _fetch_in_worker(uids: Sequence[int], heads: bool = False) -> FetchedBatch:
    """Fetch ``uids`` on this worker's connection (opened at its first batch), prepare them.

    With ``heads`` only their headers are parsed (:func:`prepare_head`).
    """
    worker = _worker()
    box = worker.box or _open_mailbox(worker)
    fetched = box.fetch(uids)
    raws = [item.raw for item in fetched]
    return fetched, prepare_all(raws, worker.context, worker.router, heads=heads)


def _fetch_heads_in_worker(uids: Sequence[int]) -> FetchedBatch:
    return _fetch_in_worker(uids, heads=True)


def _open_mailbox(worker: _Worker) -> ImapFolder:
    ref = worker.mailbox
    if ref is None:
        raise ImapError("this worker has no mailbox to fetch from")
    client = imap_connect(ref.endpoint, ref.credential)
    # Logged out when the pool shuts the worker down (a killed worker just drops it).
    Finalize(None, logout_quietly, args=(client,), exitpriority=10)
    box = ImapFolder(client, ref.folder, readonly=True)
    if box.status.uidvalidity != ref.uidvalidity:
        raise ImapError(
            _("the UIDVALIDITY of {folder} changed during the sync").format(folder=repr(ref.folder))
        )
    worker.box = box
    return box


def _ready() -> bool:
    """A worker's first task: it returns once the worker has started and imported the parser."""
    return True


def start_method() -> str:
    """How to start the parser processes: fork a single-threaded process on Linux, else spawn.

    A forked worker is ready at once, with the parser already imported; a
    spawned one starts a fresh interpreter and imports it (most of a second).
    Forking a process that runs other threads (the console's background
    syncs) can copy a lock some thread holds, so that process spawns; so does
    macOS, whose system libraries (the keychain a password may come from) are
    not safe to use in a forked child.
    """
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _mailbox_or_none(mailbox: Callable[[], MailboxRef] | None) -> MailboxRef | None:
    """The workers' mailbox, or None (they only parse) when it cannot be had."""
    if mailbox is None:
        return None
    try:
        return mailbox()
    except CsConsoleError as exc:
        log.warning("the parser processes will not fetch: %s", exc.message)
        return None


def default_workers() -> int:
    """Parser processes for a large sync: one per core, at most two (the writer needs one)."""
    return max(1, min(2, os.cpu_count() or 1))


class Parsing:
    """Prepared messages on their way from the workers; calling it waits for them.

    Without futures (no pool, or the workers not ready) the messages are
    prepared in this process when they are asked for. A pool that breaks
    meanwhile is given up (``give_up``) and the messages prepared here.
    """

    def __init__(
        self,
        futures: list[Future[list[Prepared]]],
        here: Callable[[], list[Prepared]],
        give_up: Callable[[], None],
    ) -> None:
        self.futures = futures
        self.here = here
        self.give_up = give_up

    def done(self) -> bool:
        """Whether the workers have finished (always, when the work is done here on demand)."""
        return all(future.done() for future in self.futures)

    def __call__(self) -> list[Prepared]:
        if not self.futures:
            return self.here()
        try:
            return [item for future in self.futures for item in future.result()]
        except BrokenProcessPool:
            self.give_up()
            return self.here()


class BatchParser:
    """Prepares batches (:func:`prepare`), in a process pool when ``total`` is large enough.

    With a ``mailbox`` (given as a function, called only when the pool
    starts: it may read a password), :meth:`fetch` has the workers fetch the
    batches too, each on its own connection, so the writer neither waits for
    the server nor decodes its answer. A worker that cannot connect or fetch
    hands the batch back: it is fetched here and the workers only parse from
    then on.

    Args:
        context: Where attachments go and the routing rules.
        router: ``context.routing`` compiled, for the batches prepared here.
        total: How many messages the sync will fetch.
        workers: Parser processes; 0 or 1 parses inline.
        min_messages: The smallest ``total`` worth starting processes for
            (default :data:`POOL_MIN_MESSAGES`).
        mailbox: Where the workers fetch from, if they are to fetch.
    """

    def __init__(
        self,
        context: PrepareContext,
        *,
        total: int,
        router: Router | None = None,
        workers: int | None = None,
        min_messages: int | None = None,
        mailbox: Callable[[], MailboxRef] | None = None,
    ) -> None:
        self.context = context
        self.router = router or Router(context.routing)
        count = default_workers() if workers is None else workers
        self.workers = count
        self.pool: ProcessPoolExecutor | None = None
        self.mailbox: MailboxRef | None = None
        self._starting: list[Future[bool]] = []
        smallest = POOL_MIN_MESSAGES if min_messages is None else min_messages
        if count > 1 and total >= smallest:
            self.mailbox = _mailbox_or_none(mailbox)
            self.pool = ProcessPoolExecutor(
                max_workers=count,
                mp_context=multiprocessing.get_context(start_method()),
                initializer=_start_worker,
                initargs=(context, self.mailbox, os.getpid()),
            )
            # One task per worker starts them all now; each is ready once its task is done.
            self._starting = [self.pool.submit(_ready) for _ in range(count)]

    def prepare(self, raws: Sequence[bytes]) -> Parsing:
        """Start :func:`prepare_all` of ``raws``; calling the result gives the results."""
        here = lambda: prepare_all(raws, self.context, self.router)  # noqa: E731
        return self._in_pool(_prepare_in_worker, raws, here)

    def prepare_bodies(self, owed: Sequence[OwedBody], *, spread: bool = True) -> Parsing:
        """Start :func:`prepare_body` of each of ``owed``; calling the result gives them.

        With ``spread`` the work is split among the workers; without, one worker
        takes it all and the others stay free for what else is asked of them.
        """
        here = lambda: [prepare_body(item, self.context, self.router) for item in owed]  # noqa: E731
        return self._in_pool(_prepare_bodies_in_worker, owed, here, parts=None if spread else 1)

    def _in_pool(
        self,
        task: Callable[[list[T]], list[Prepared]],
        items: Sequence[T],
        here: Callable[[], list[Prepared]],
        *,
        parts: int | None = None,
    ) -> Parsing:
        """``task`` over ``items`` in the workers, or ``here`` (no pool, not ready, broken)."""
        if self.pool is None or len(items) < 2 or not self._ready():
            return Parsing([], here, self._give_up)
        futures = self._submit(task, items, parts=parts)
        if futures is None:
            return Parsing([], here, self._give_up)
        return Parsing(futures, here, self._give_up)

    def fetch(
        self,
        uids: Sequence[int],
        fetch_here: Callable[[Sequence[int]], list[FetchedMessage]],
        *,
        heads: bool = False,
        here: bool = False,
    ) -> Callable[[], FetchedBatch]:
        """Start fetching and preparing ``uids``; the function returned gives both.

        Without a mailbox for the workers (or before they are ready, or with
        ``here``) ``fetch_here`` fetches the batch now, and it is prepared as
        by :meth:`prepare`. With ``heads`` only the headers are parsed
        (:func:`prepare_head`).
        """
        if here or self.pool is None or self.mailbox is None or len(uids) < 2:
            return self._fetched_here(uids, fetch_here, heads)
        if not self._ready():
            return self._fetched_here(uids, fetch_here, heads)
        task = _fetch_heads_in_worker if heads else _fetch_in_worker
        futures = self._submit(task, uids)
        if futures is None:
            return self._fetched_here(uids, fetch_here, heads)

        def result() -> FetchedBatch:
            fetched: list[FetchedMessage] = []
            prepared: list[Prepared] = []
            try:
                for future in futures:
                    got, done = future.result()
                    fetched += got
                    prepared += done
            except BrokenProcessPool:
                self._give_up()
            except Exception as exc:  # the worker's connection: fetch here from now on
                log.warning("a parser process cannot fetch (%s); fetching in this process", exc)
                self.mailbox = None
            else:
                return fetched, prepared
            return self._fetched_here(uids, fetch_here, heads)()

        return result

    def _submit(
        self, task: Callable[[list[T]], R], items: Sequence[T], *, parts: int | None = None
    ) -> list[Future[R]] | None:
        """``task`` over ``items`` in ``parts`` (default one per worker); None if the pool broke."""
        assert self.pool is not None
        size = -(-len(items) // (parts or self.workers))
        pieces = [list(items[i : i + size]) for i in range(0, len(items), size)]
        try:
            return [self.pool.submit(task, piece) for piece in pieces]
        except (BrokenProcessPool, RuntimeError):
            self._give_up()
            return None

    def _fetched_here(
        self,
        uids: Sequence[int],
        fetch_here: Callable[[Sequence[int]], list[FetchedMessage]],
        heads: bool = False,
    ) -> Callable[[], FetchedBatch]:
        fetched = fetch_here(uids)
        raws = [item.raw for item in fetched]
        if heads:  # cheap enough to do here, when they are asked for
            return lambda: (fetched, prepare_all(raws, self.context, self.router, heads=True))
        parsing = self.prepare(raws)
        return lambda: (fetched, parsing())

    def wait_started(self) -> None:
        """Wait until every worker has started (from then on batches go to the workers)."""
        for future in self._starting:
            try:
                future.result()
            except BrokenProcessPool:
                self._give_up()
                return

    def _ready(self) -> bool:
        """Whether every worker has started (a worker that failed to start counts as started)."""
        if all(future.done() for future in self._starting):
            self._starting = []
            return True
        return False

    def _give_up(self) -> None:
        log.warning("the parser processes stopped; parsing in this process")
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def __enter__(self) -> BatchParser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
