"""The parser processes of a sync that is killed (``kill -9``) exit instead of lingering."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import sys, tempfile
from pathlib import Path
from cs_console.desk import orphans
from cs_console.desk.routing import RoutingSettings
from cs_console.desk.sync_parse import BatchParser, PrepareContext
if sys.argv[1] == "poll":
    orphans._ask_the_kernel = lambda: False
    orphans._POLL_SECONDS = 0.1
context = PrepareContext(Path(tempfile.mkdtemp()), RoutingSettings())
parser = BatchParser(context, total=5000, workers=2, min_messages=1)
parser.wait_started()
print(*parser.pool._processes, flush=True)
sys.stdin.read()  # until the test kills this process
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")  # a zombie has exited; its new parent may not reap it


@pytest.mark.parametrize("how", ["kernel", "poll"])
def test_workers_exit_when_their_sync_is_killed(how: str) -> None:
    sync = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, how],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert sync.stdout is not None
        workers = [int(pid) for pid in sync.stdout.readline().split()]
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
        os.kill(sync.pid, signal.SIGKILL)
        sync.wait()
        deadline = time.monotonic() + 20
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)  # polling the condition, with a deadline
        assert not any(_alive(pid) for pid in workers)
    finally:
        if sync.poll() is None:
            sync.kill()
            sync.wait()
