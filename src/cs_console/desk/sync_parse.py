"""Parsing a sync's batches: in worker processes while the previous batch is written.

Parsing MIME is pure CPU work (:func:`cs_console.mail.parse.parse_message`) and
its results pickle, so a large first sync hands each fetched batch to a small
process pool and writes the previous batch meanwhile. Small syncs (the usual
poll that finds a few messages) parse inline: starting workers would cost more
than it saves. Starting a worker takes a while (a fresh interpreter imports
the parser): batches submitted before the workers are ready are parsed inline,
when their results are asked for, instead of waiting for them. A pool that
breaks (a worker killed) falls back to parsing inline.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from cs_console.desk.routing import routing_text
from cs_console.mail.parse import ParsedMessage, parse_message

__all__ = [
    "POOL_MIN_MESSAGES",
    "BatchParser",
    "Prepared",
    "default_workers",
    "parse_all",
    "prepare_all",
]

log = logging.getLogger(__name__)

POOL_MIN_MESSAGES = 1000  # fewer new messages than this are parsed inline


def parse_all(raws: Sequence[bytes]) -> list[ParsedMessage]:
    """Parse every message (the workers' job; also the inline path)."""
    return [parse_message(raw) for raw in raws]


@dataclass(frozen=True)
class Prepared:
    """A message parsed, with what the ingest derives from it alone, ready for the ingest."""

    parsed: ParsedMessage
    routing_text: str  # :func:`cs_console.desk.routing.routing_text` of its subject and text


def prepare_all(raws: Sequence[bytes]) -> list[Prepared]:
    """Parse every message and prepare its routing text (what a sync's workers do)."""
    prepared = []
    for parsed in parse_all(raws):
        text = routing_text(parsed.subject, parsed.new_text or parsed.text)
        prepared.append(Prepared(parsed, text))
    return prepared


def _ready() -> bool:
    """A worker's first task: it returns once the worker has started and imported the parser."""
    return True


def default_workers() -> int:
    """Parser processes for a large sync: one per core, at most two (the writer needs one)."""
    return max(1, min(2, os.cpu_count() or 1))


class BatchParser:
    """Parses batches, in a process pool when ``total`` is large enough.

    Args:
        total: How many messages the sync will fetch.
        workers: Parser processes; 0 or 1 parses inline.
        min_messages: The smallest ``total`` worth starting processes for.
    """

    def __init__(
        self, *, total: int, workers: int | None = None, min_messages: int = POOL_MIN_MESSAGES
    ) -> None:
        count = default_workers() if workers is None else workers
        self.workers = count
        self.pool: ProcessPoolExecutor | None = None
        self._starting: list[Future[bool]] = []
        if count > 1 and total >= min_messages:
            # spawn: never fork a process that may run threads (the console's syncs)
            context = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(max_workers=count, mp_context=context)
            # One task per worker starts them all now; each is ready once its task is done.
            self._starting = [self.pool.submit(_ready) for _ in range(count)]

    def prepare(self, raws: Sequence[bytes]) -> Callable[[], list[Prepared]]:
        """Start :func:`prepare_all` of ``raws``; the function returned gives the results."""
        if self.pool is None or len(raws) < 2 or not self._ready():
            return lambda: prepare_all(raws)
        size = -(-len(raws) // self.workers)
        parts = [list(raws[i : i + size]) for i in range(0, len(raws), size)]
        try:
            futures = [self.pool.submit(prepare_all, part) for part in parts]
        except (BrokenProcessPool, RuntimeError):
            self._give_up()
            return lambda: prepare_all(raws)

        def result() -> list[Prepared]:
            try:
                return [item for future in futures for item in future.result()]
            except BrokenProcessPool:
                self._give_up()
                return prepare_all(raws)

        return result

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
