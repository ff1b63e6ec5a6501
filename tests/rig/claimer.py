"""A separate agent process for concurrency tests: claims tickets until none is left.

Usage: python -m tests.rig.claimer DATABASE_URL AGENT_NAME
Prints one claimed ticket number per line.
"""

from __future__ import annotations

import sys

from cs_console.clock import utcnow
from cs_console.desk.claim import take_next
from cs_console.store.engine import make_engine


def main() -> None:
    url, agent = sys.argv[1], sys.argv[2]
    engine = make_engine(url)
    while (number := take_next(engine, agent, now=utcnow())) is not None:
        print(number, flush=True)
    engine.dispose()


if __name__ == "__main__":
    main()
