"""The collector's settings during a large sync, and after it."""

from __future__ import annotations

import gc
import threading
import weakref

from cs_console.desk.gc_tuning import BULK_THRESHOLDS, bulk_gc


def test_bulk_gc_raises_the_thresholds_and_puts_them_back() -> None:
    before = gc.get_threshold()
    with bulk_gc():
        assert gc.get_threshold() == BULK_THRESHOLDS
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_bulk_gc_restores_after_an_error() -> None:
    before = gc.get_threshold()
    try:
        with bulk_gc():
            raise RuntimeError("the sync failed")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_overlapping_syncs_keep_the_settings_until_the_last_ends() -> None:
    """Two syncs in the console's threads: the first to end does not undo the other's."""
    before = gc.get_threshold()
    first_entered = threading.Event()
    first_may_leave = threading.Event()
    seen: list[tuple[int, int, int]] = []

    def first() -> None:
        with bulk_gc():
            first_entered.set()
            first_may_leave.wait(timeout=10)

    thread = threading.Thread(target=first)
    thread.start()
    assert first_entered.wait(timeout=10)
    with bulk_gc():
        first_may_leave.set()
        thread.join(timeout=10)
        assert not thread.is_alive()
        seen.append(gc.get_threshold())
    assert seen == [BULK_THRESHOLDS]
    assert gc.get_threshold() == before


def test_cyclic_garbage_is_still_collected_during_a_sync() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    with bulk_gc():
        node = Node()
        ref = weakref.ref(node)
        del node
        # A cycle: only the collector frees it, once enough allocations start a young pass.
        kept: list[list[int]] = [[] for _ in range(2 * BULK_THRESHOLDS[0])]
        assert ref() is None
        del kept
