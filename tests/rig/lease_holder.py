"""A process that holds a lease and renews it, for take-over tests.

Usage: python -m tests.rig.lease_holder DATABASE_URL LEASE_NAME TTL_SECONDS
Prints "held" once it holds the lease, then renews it until killed.
"""

from __future__ import annotations

import sys
import threading
from datetime import timedelta

from cs_console.clock import utcnow
from cs_console.desk.leases import holder_id, try_acquire
from cs_console.store.engine import make_engine


def main() -> None:
    url, name, ttl = sys.argv[1], sys.argv[2], timedelta(seconds=float(sys.argv[3]))
    engine = make_engine(url)
    me = holder_id()
    announced = False
    tick = threading.Event()
    while True:
        if try_acquire(engine, name, me, now=utcnow(), ttl=ttl) and not announced:
            print(f"held {me}", flush=True)
            announced = True
        tick.wait(ttl.total_seconds() / 3)


if __name__ == "__main__":
    main()
