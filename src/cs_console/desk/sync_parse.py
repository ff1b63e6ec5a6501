"""Parsing a sync's batches: in worker processes while the previous batch is written.

Parsing MIME is pure CPU work (:func:`cs_console.mail.parse.parse_message`) and
its results pickle, so a large first sync hands each fetched batch to a small
process pool and writes the previous batch meanwhile. Small syncs (the usual
poll that finds a few messages) parse inline: starting workers would cost more
than it saves. A single-threaded process (``cs-console sync``) forks its
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
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path

from cs_console.desk.dedupe import dedupe_hash
from cs_console.desk.routing import (
    Router,
    RoutingDecision,
    RoutingSettings,
    message_routing_input,
)
from cs_console.mail.parse import ParsedMessage, parse_message
from cs_console.store.attachments import store_blob

__all__ = [
    "POOL_MIN_MESSAGES",
    "BatchParser",
    "PrepareContext",
    "Prepared",
    "StoredFile",
    "default_workers",
    "parse_all",
    "prepare",
    "prepare_all",
    "start_method",
]

log = logging.getLogger(__name__)

POOL_MIN_MESSAGES = 1000  # fewer new messages than this are parsed inline


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


def prepare(raw: bytes, context: PrepareContext, router: Router) -> Prepared:
    """Parse one message and do the rest of its work that needs no database."""
    parsed = parse_message(raw)
    content_hash = dedupe_hash(raw, parsed)
    decision = router.route(message_routing_input(parsed))
    stored: tuple[StoredFile, ...] | None = None
    try:
        stored = tuple(
            StoredFile(store_blob(context.attachments_dir, part.data), len(part.data))
            for part in parsed.attachments
        )
    except OSError as exc:  # a full disk: the ingest tries again and reports it
        log.warning("cannot store an attachment ahead of the ingest: %s", exc)
    else:
        if parsed.attachments:
            emptied = [replace(part, data=b"") for part in parsed.attachments]
            parsed = replace(parsed, attachments=emptied)
    return Prepared(parsed, content_hash, decision, stored)


def prepare_all(
    raws: Sequence[bytes], context: PrepareContext, router: Router | None = None
) -> list[Prepared]:
    """:func:`prepare` every message (the workers' job; also the inline path)."""
    router = router or Router(context.routing)
    return [prepare(raw, context, router) for raw in raws]


_WORKER: tuple[PrepareContext, Router] | None = None


def _start_worker(context: PrepareContext) -> None:
    """A worker's initializer: keep the context and compile the routing rules once."""
    global _WORKER
    _WORKER = (context, Router(context.routing))


def _prepare_in_worker(raws: Sequence[bytes]) -> list[Prepared]:
    assert _WORKER is not None, "a worker started without its context"
    return prepare_all(raws, *_WORKER)


def _ready() -> bool:
    """A worker's first task: it returns once the worker has started and imported the parser."""
    return True


def start_method() -> str:
    """How to start the parser processes: fork a single-threaded process, else spawn.

    A forked worker is ready at once, with the parser already imported; a
    spawned one starts a fresh interpreter and imports it (most of a second).
    Forking a process that runs other threads (the console's background
    syncs) can copy a lock some thread holds, so that process spawns.
    """
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


def default_workers() -> int:
    """Parser processes for a large sync: one per core, at most two (the writer needs one)."""
    return max(1, min(2, os.cpu_count() or 1))


class BatchParser:
    """Prepares batches (:func:`prepare`), in a process pool when ``total`` is large enough.

    Args:
        context: Where attachments go and the routing rules.
        router: ``context.routing`` compiled, for the batches prepared here.
        total: How many messages the sync will fetch.
        workers: Parser processes; 0 or 1 parses inline.
        min_messages: The smallest ``total`` worth starting processes for.
    """

    def __init__(
        self,
        context: PrepareContext,
        *,
        total: int,
        router: Router | None = None,
        workers: int | None = None,
        min_messages: int = POOL_MIN_MESSAGES,
    ) -> None:
        self.context = context
        self.router = router or Router(context.routing)
        count = default_workers() if workers is None else workers
        self.workers = count
        self.pool: ProcessPoolExecutor | None = None
        self._starting: list[Future[bool]] = []
        if count > 1 and total >= min_messages:
            self.pool = ProcessPoolExecutor(
                max_workers=count,
                mp_context=multiprocessing.get_context(start_method()),
                initializer=_start_worker,
                initargs=(context,),
            )
            # One task per worker starts them all now; each is ready once its task is done.
            self._starting = [self.pool.submit(_ready) for _ in range(count)]

    def prepare(self, raws: Sequence[bytes]) -> Callable[[], list[Prepared]]:
        """Start :func:`prepare_all` of ``raws``; the function returned gives the results."""
        if self.pool is None or len(raws) < 2 or not self._ready():
            return self._inline(raws)
        size = -(-len(raws) // self.workers)
        parts = [list(raws[i : i + size]) for i in range(0, len(raws), size)]
        try:
            futures = [self.pool.submit(_prepare_in_worker, part) for part in parts]
        except (BrokenProcessPool, RuntimeError):
            self._give_up()
            return self._inline(raws)

        def result() -> list[Prepared]:
            try:
                return [item for future in futures for item in future.result()]
            except BrokenProcessPool:
                self._give_up()
                return prepare_all(raws, self.context, self.router)

        return result

    def _inline(self, raws: Sequence[bytes]) -> Callable[[], list[Prepared]]:
        return lambda: prepare_all(raws, self.context, self.router)

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
