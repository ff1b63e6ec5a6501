"""Helper processes that end with the process that started them.

A ``kill -9`` of a sync gives its parser processes no chance to be told to
stop: they would wait for work forever, each holding its IMAP connection.
:func:`exit_with_parent` makes such a process exit once its parent is gone:
on Linux the kernel signals it (``PR_SET_PDEATHSIG``); elsewhere a daemon
thread looks for a new parent every few seconds.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

__all__ = ["exit_with_parent"]

_PR_SET_PDEATHSIG = 1
_POLL_SECONDS = 2.0


def exit_with_parent(parent: int) -> None:
    """End this process when process ``parent`` (the one that started it) ends."""
    if not (sys.platform.startswith("linux") and _ask_the_kernel()):
        threading.Thread(
            target=_watch, args=(parent,), name="exit-with-parent", daemon=True
        ).start()
    if os.getppid() != parent:  # gone before the request was made
        os._exit(1)


def _ask_the_kernel() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0
    except (AttributeError, OSError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_POLL_SECONDS)
    os._exit(1)
