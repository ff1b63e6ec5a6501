"""Fewer garbage-collector passes during a large sync.

A large sync allocates millions of small objects (parsed headers, rows,
pickled batches coming back from the parser processes) that are not cyclic
garbage. With CPython's default thresholds the collector runs a young pass
every 700 allocations and, every so often, a full pass over every object the
process holds: the ORM's mappings, the batches waiting to be stored. On a
first sync of 10,000 messages those passes took about a fifth of the writer's
time (``benchmarks/sync_first_run.py``), most of it while unpickling the
workers' results.

:func:`bulk_gc` freezes what the process already holds (the collector no
longer walks it) and raises the thresholds while a sync runs, then puts
both back. The parser processes do the same at start
(:func:`tune_worker_gc`). Cyclic garbage is still collected, only in fewer,
larger passes.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["BULK_THRESHOLDS", "bulk_gc", "tune_worker_gc"]

#: Young pass every 20,000 allocations (default 700); the older generations as
#: often, relative to it, as by default.
BULK_THRESHOLDS = (20_000, 10, 10)

_lock = threading.Lock()
_active = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def bulk_gc() -> Iterator[None]:
    """Collect garbage less often until the block ends (nests, and works across threads).

    The thresholds are process-wide: the first block to enter sets them and
    the last to leave restores them, so two syncs in the console's threads
    do not undo each other.
    """
    global _active, _saved
    with _lock:
        if _active == 0:
            _saved = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(*BULK_THRESHOLDS)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                gc.unfreeze()
                _saved = None


def tune_worker_gc() -> None:
    """For a parser process, at start: leave what it inherited or imported alone, collect less.

    A forked worker inherits the sync's objects; frozen, they are neither
    walked by its collector nor copied on write by it.
    """
    gc.freeze()
    gc.set_threshold(*BULK_THRESHOLDS)
